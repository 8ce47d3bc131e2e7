#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs everything quiesce builds and tests with, from Debian 12's packages
# only. Safe to re-run: it does nothing when every package is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  clang libclang-rt-14-dev
  libglib2.0-dev libblkid-dev libsystemd-dev
  libsqlite3-dev
  libpq-dev postgresql-15
  qemu-guest-agent socat
  gcc-mingw-w64-x86-64 wine wine64 msitools wixl mingw-w64-tools libwine-dev
  e2fsprogs xfsprogs btrfs-progs dosfstools util-linux mount
  qemu-system-x86 cpio kmod xz-utils sqlite3
  mmdebstrap qemu-utils python3 jq thin-provisioning-tools
  libfuse3-dev hyperv-daemons
  scdoc systemd udev python3
  debhelper dpkg-dev lintian git
  libvirt-dev libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu
  dropbear-bin openssh-client
  libmariadb-dev mariadb-server mariadb-client
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root (sudo)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# mariadb-server's maintainer scripts would start the system's MariaDB; the
# tests run their own mariadbd as an unprivileged user in a temp dir and must
# never meet a system instance. A policy-rc.d that forbids every start is put
# in place for the install when there is none (containers usually have one).
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
trap '[ -z "$own_policy" ] || rm -f "$policy"' EXIT
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
