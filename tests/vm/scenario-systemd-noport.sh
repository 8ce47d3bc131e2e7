#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd guest without the agent port (issue 12 point 9, b and c; and
# the first half of e). Two boots of the Debian 12 image
# (scripts/vm/build-debian-guest.sh) through a fresh qcow2 overlay in
# VM_SD_STATE, which vm/systemd-port boots next:
#
#   install boot  `apt install ./*.deb` of this tree's guest packages (built by
#                 vm/systemd-setup): apt removes qemu-guest-agent (Conflicts/
#                 Replaces), quiesced.service is static and not started (no
#                 port); the test's files go in (vm-workload, hv-vss-cuse, the
#                 configuration, a 20 s WatchdogSec drop-in for (d));
#   (b)           a boot without the port: no failed unit, no job left,
#                 quiesced.service inactive and nowhere in systemd-analyze's
#                 blame or critical chain;
#   (c)           the port hot-plugged over QMP (device_add virtserialport):
#                 udev starts quiesced.service (READY, the agent answers),
#                 within seconds; device_del: it stops. Twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sd-lib.sh"

sd_setup
ls "$VM_SD_STATE"/debs/quiesced_*.deb >/dev/null 2>&1 || vm_fail "no .debs in $VM_SD_STATE/debs (vm/systemd-setup)"
rm -f "$VM_SD_STATE/root.qcow2"

# What the install boot copies in: the .debs, the test programs, the
# agent's configuration and the watchdog drop-in.
mkdir -p "$WORK/debs/files"
# The guest's packages only: quiesce-host-tools runs on the host and needs
# libvirt, which the guest image does not carry. quiesce-writer-mariadb is
# installed by vm/systemd-mariadb in an overlay of its own: its enabled unit
# would show in (b)'s systemd-analyze.
for deb in "$VM_SD_STATE"/debs/*.deb; do
  case $deb in
    *-dbgsym_*|*/quiesce-host-tools_*|*/quiesce-writer-mariadb_*) ;;
    *) cp "$deb" "$WORK/debs/" ;;
  esac
done
cp "$VM_WORKLOAD" "$WORK/debs/files/vm-workload"
[ -x "${VM_HV_VSS_CUSE:-}" ] && cp "$VM_HV_VSS_CUSE" "$WORK/debs/files/hv-vss-cuse"
# A short freeze window and writer limits keep the agent's busiest request
# (engine_config_longest_busy_usec: 5 s running state + 3 x 1 s writers +
# 10 s window + 1 s) at 19 s, under the drop-in's WatchdogSec=20s, so the
# agent does not raise it.
cat >"$WORK/debs/files/quiesced.conf" <<'EOF'
[freeze]
window=10

[writers]
timeout=1
total-timeout=1
EOF
cat >"$WORK/debs/files/watchdog.conf" <<'EOF'
# vm/systemd-port (d): SIGSTOP while frozen is ended by the watchdog; the
# test's limit instead of the unit's 5 min.
[Service]
WatchdogSec=20s
EOF

sd_boot no
vm_log "install boot: apt install ./*.deb"
sd_sh 'set -o pipefail; mkdir -p /mnt/debs && mount -o ro,noload /dev/disk/by-id/virtio-debs /mnt/debs && cd /mnt/debs &&
       dpkg-query -W -f="before: \${Package} \${Status}\n" qemu-guest-agent &&
       DEBIAN_FRONTEND=noninteractive apt install -y ./*.deb 2>&1 | grep -v "^WARNING: apt does not have a stable CLI"' 300 \
  >"$WORK/apt.log" || { cat "$WORK/apt.log"; vm_fail "apt install of the .debs failed"; }
sed 's/^/    /' "$WORK/apt.log" | grep -E -A2 'before:|REMOVED|NEW packages|^    Setting up|^    Removing' || true
grep -q 'The following packages will be REMOVED' "$WORK/apt.log" && grep -A1 'REMOVED' "$WORK/apt.log" | grep -q qemu-guest-agent ||
  vm_fail "apt did not remove qemu-guest-agent"
vm_log "ok: (e) apt install ./quiesced_*.deb removed qemu-guest-agent (Conflicts/Replaces)"
sd_expect "the packages are installed, qemu-guest-agent is gone, quiesced.service is static and inactive" '
  dpkg-query -W -f="\${Package} \${Version} \${Status}\n" quiesced libquiesce-writer1 libquiesce-writer-dev quiesce-writer quiesce-host-tools
  ! dpkg-query -W -f="\${Status}\n" qemu-guest-agent 2>/dev/null | grep -q "install ok installed"
  echo "qemu-guest-agent: $(dpkg-query -W -f="\${Status}" qemu-guest-agent 2>&1)"
  echo "quiesced.service: $(systemctl is-enabled quiesced.service) $(systemctl is-active quiesced.service)"
  [ "$(systemctl is-enabled quiesced.service)" = static ] && ! systemctl -q is-active quiesced.service'
sd_expect "the test files are in place" '
  install -m 0755 /mnt/debs/files/vm-workload /usr/local/bin/
  [ ! -f /mnt/debs/files/hv-vss-cuse ] || install -m 0755 /mnt/debs/files/hv-vss-cuse /usr/local/bin/
  install -m 0644 /mnt/debs/files/quiesced.conf /etc/quiesce/quiesced.conf
  mkdir -p /etc/systemd/system/quiesced.service.d
  install -m 0644 /mnt/debs/files/watchdog.conf /etc/systemd/system/quiesced.service.d/vm-test.conf
  umount /mnt/debs && quiesced --check --json >/dev/null; echo "quiesced --check: exit $?"'
sd_shutdown

# (b) a boot with quiesced installed and no port.
rm -rf "$WORK/debs"
VM_DRIVES=()
sd_boot no
sd_expect "(b) no failed unit, no job waiting, quiesced inactive, not in systemd-analyze" '
  state=$(systemctl is-system-running --wait)
  echo "is-system-running: $state"
  systemctl --failed --no-legend --plain | sed "s/^/failed: /"
  jobs=$(systemctl list-jobs --no-legend --plain); [ -z "$jobs" ] || echo "jobs: $jobs"
  echo "quiesced.service: $(systemctl is-active quiesced.service)"
  systemd-analyze | head -1
  systemd-analyze critical-chain --no-pager | tail -n +3 | head -8
  hits=$( { systemd-analyze blame --no-pager; systemd-analyze critical-chain --no-pager; } | grep -iE "quiesce|virtio|guest.agent")
  [ -z "$hits" ] || echo "systemd-analyze mentions: $hits"
  [ "$state" = running ] && [ -z "$jobs" ] && [ -z "$hits" ] && ! systemctl -q is-active quiesced.service'

# (c) hot-plug and unplug, twice: measured from the host, from the QMP
# command to the guest's answer that the unit is active (READY, Type=notify)
# or inactive.
for round in 1 2; do
  t0=$(vm_now_ms)
  sd_port_plug || vm_fail "device_add failed"
  sd_sh 'end=$((SECONDS + 15)); while [ $SECONDS -lt $end ]; do systemctl -q is-active quiesced.service && break; sleep 0.05; done
         systemctl -q is-active quiesced.service' >/dev/null || {
    sd_sh 'systemctl status --no-pager quiesced.service; journalctl -b -u quiesced --no-pager | tail'
    vm_fail "(c) round $round: quiesced.service did not start within 15 s of device_add"; }
  up_ms=$(( $(vm_now_ms) - t0 ))
  sync=$(vm_agent '{"execute":"guest-ping"}') || vm_fail "(c) the hot-plugged agent does not answer"
  sd_sh 'systemctl show -p ActiveState,SubState,StatusText,WantedBy,BindsTo quiesced.service | sed "s/^/  /"
         journalctl -b -u quiesced.service -o short-monotonic --no-pager | tail -n 3 | sed "s/^/  /"'
  vm_log "ok: (c) round $round: device_add -> quiesced.service active (READY) in $up_ms ms, guest-ping -> $sync"
  t0=$(vm_now_ms)
  sd_port_unplug || vm_fail "device_del failed"
  sd_sh 'end=$((SECONDS + 15)); while [ $SECONDS -lt $end ]; do systemctl -q is-active quiesced.service || break; sleep 0.05; done
         ! systemctl -q is-active quiesced.service' >/dev/null ||
    vm_fail "(c) round $round: quiesced.service still active 15 s after device_del"
  down_ms=$(( $(vm_now_ms) - t0 ))
  sd_sh 'echo "  $(systemctl show -p ActiveState,SubState,Result quiesced.service | tr "\n" " ")"
         systemctl --failed --no-legend --plain | sed "s/^/  failed: /"'
  vm_log "ok: (c) round $round: device_del -> quiesced.service inactive in $down_ms ms"
done
sd_expect "(c) nothing failed after the unplugs" '[ -z "$(systemctl --failed --no-legend --plain)" ]'
sd_shutdown
vm_log "PASS (b) boot without the port, (c) hot-plug; the installed overlay is in $VM_SD_STATE for vm/systemd-port"
