/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sysfs.h — small read-only helpers for walking a sysfs tree.
 *
 * Every path here is an ordinary file path, so the same code reads the live
 * /sys and the recorded trees under tests/fixtures/<case>/sys. Helpers never
 * fail hard: a missing attribute is normal in sysfs (an attribute appears only
 * for the drivers that provide it), so they return NULL or FALSE and let the
 * caller decide what absence means.
 */
#ifndef QUIESCE_FSFREEZE_SYSFS_H
#define QUIESCE_FSFREEZE_SYSFS_H

#include <glib.h>
#include <sys/types.h>

/* Sysfs attributes are at most a page; anything longer is not an attribute. */
#define SYSFS_ATTR_MAX 4096

/* The contents of dir/attr with surrounding whitespace removed, or NULL when
 * it does not exist, cannot be read or is longer than SYSFS_ATTR_MAX.
 * (transfer full) */
char *sysfs_attr_read(const char *dir, const char *attr);

/* The raw bytes of dir/attr (binary attributes such as vpd_pg80), or NULL.
 * (transfer full) */
GBytes *sysfs_attr_read_bytes(const char *dir, const char *attr);

gboolean sysfs_attr_exists(const char *dir, const char *attr);

/* The value of KEY=value in dir/uevent (e.g. DEVNAME, DEVTYPE), or NULL.
 * (transfer full) */
char *sysfs_uevent_get(const char *dir, const char *key);

/* Parses "MAJOR:MINOR" (as in dev files and mountinfo) into *devno. */
gboolean sysfs_devno_parse(const char *text, dev_t *devno);

/* "MAJOR:MINOR" of devno. (transfer full) */
char *sysfs_devno_format(dev_t devno);

/* path with every symlink resolved, or NULL when it does not exist.
 * (transfer full) */
char *sysfs_path_resolve(const char *path);

/* The basename of the symlink target of dir/link, e.g. the driver name from
 * .../0000:00:02.0/driver, or NULL. (transfer full) */
char *sysfs_link_basename(const char *dir, const char *link);

/* path without the leading root, always starting with '/', e.g.
 * "/devices/pci0000:00/..." for "<root>/devices/pci0000:00/...". NULL when
 * path is not inside root. (transfer full) */
char *sysfs_path_relative(const char *root, const char *path);

#endif
