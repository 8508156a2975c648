/* SPDX-License-Identifier: Apache-2.0 */
/* The string forms of every enum in domain.h: the values libvirt's domain XML uses. */
#include "conf-internal.h"
#include "domain.h"

static const char *const domain_lifecycle_action_table[_DOMAIN_LIFECYCLE_ACTION_MAX] = {
    [DOMAIN_LIFECYCLE_ACTION_DESTROY] = "destroy",
    [DOMAIN_LIFECYCLE_ACTION_RESTART] = "restart",
};
DEFINE_STRING_TABLE(domain_lifecycle_action, enum domain_lifecycle_action, _DOMAIN_LIFECYCLE_ACTION_MAX)

static const char *const domain_disk_type_table[_DOMAIN_DISK_TYPE_MAX] = {
    [DOMAIN_DISK_TYPE_FILE] = "file",
    [DOMAIN_DISK_TYPE_BLOCK] = "block",
};
DEFINE_STRING_TABLE(domain_disk_type, enum domain_disk_type, _DOMAIN_DISK_TYPE_MAX)

static const char *const domain_disk_bus_table[_DOMAIN_DISK_BUS_MAX] = {
    [DOMAIN_DISK_BUS_VIRTIO] = "virtio",
};
DEFINE_STRING_TABLE(domain_disk_bus, enum domain_disk_bus, _DOMAIN_DISK_BUS_MAX)

static const char *const domain_disk_format_table[_DOMAIN_DISK_FORMAT_MAX] = {
    [DOMAIN_DISK_FORMAT_RAW] = "raw",
};
DEFINE_STRING_TABLE(domain_disk_format, enum domain_disk_format, _DOMAIN_DISK_FORMAT_MAX)

static const char *const domain_disk_cache_table[_DOMAIN_DISK_CACHE_MAX] = {
    [DOMAIN_DISK_CACHE_DEFAULT] = "default",	       [DOMAIN_DISK_CACHE_NONE] = "none",
    [DOMAIN_DISK_CACHE_WRITETHROUGH] = "writethrough", [DOMAIN_DISK_CACHE_WRITEBACK] = "writeback",
    [DOMAIN_DISK_CACHE_DIRECTSYNC] = "directsync",     [DOMAIN_DISK_CACHE_UNSAFE] = "unsafe",
};
DEFINE_STRING_TABLE(domain_disk_cache, enum domain_disk_cache, _DOMAIN_DISK_CACHE_MAX)

static const char *const domain_disk_io_table[_DOMAIN_DISK_IO_MAX] = {
    [DOMAIN_DISK_IO_DEFAULT] = "default",
    [DOMAIN_DISK_IO_THREADS] = "threads",
    [DOMAIN_DISK_IO_NATIVE] = "native",
    [DOMAIN_DISK_IO_IO_URING] = "io_uring",
};
DEFINE_STRING_TABLE(domain_disk_io, enum domain_disk_io, _DOMAIN_DISK_IO_MAX)

static const char *const domain_interface_type_table[_DOMAIN_INTERFACE_TYPE_MAX] = {
    [DOMAIN_INTERFACE_TYPE_ETHERNET] = "ethernet",
};
DEFINE_STRING_TABLE(domain_interface_type, enum domain_interface_type, _DOMAIN_INTERFACE_TYPE_MAX)

static const char *const domain_device_model_table[_DOMAIN_DEVICE_MODEL_MAX] = {
    [DOMAIN_DEVICE_MODEL_VIRTIO] = "virtio",
    [DOMAIN_DEVICE_MODEL_NONE] = "none",
};
DEFINE_STRING_TABLE(domain_device_model, enum domain_device_model, _DOMAIN_DEVICE_MODEL_MAX)

static const char *const domain_chr_type_table[_DOMAIN_CHR_TYPE_MAX] = {
    [DOMAIN_CHR_TYPE_NULL] = "null",
    [DOMAIN_CHR_TYPE_PTY] = "pty",
    [DOMAIN_CHR_TYPE_FILE] = "file",
    [DOMAIN_CHR_TYPE_STDIO] = "stdio",
};
DEFINE_STRING_TABLE(domain_chr_type, enum domain_chr_type, _DOMAIN_CHR_TYPE_MAX)

static const char *const domain_console_target_table[_DOMAIN_CONSOLE_TARGET_MAX] = {
    [DOMAIN_CONSOLE_TARGET_SERIAL] = "serial",
    [DOMAIN_CONSOLE_TARGET_VIRTIO] = "virtio",
};
DEFINE_STRING_TABLE(domain_console_target, enum domain_console_target, _DOMAIN_CONSOLE_TARGET_MAX)

static const char *const domain_rng_backend_table[_DOMAIN_RNG_BACKEND_MAX] = {
    [DOMAIN_RNG_BACKEND_RANDOM] = "random",
};
DEFINE_STRING_TABLE(domain_rng_backend, enum domain_rng_backend, _DOMAIN_RNG_BACKEND_MAX)

static const char *const domain_fs_driver_table[_DOMAIN_FS_DRIVER_MAX] = {
    [DOMAIN_FS_DRIVER_VIRTIOFS] = "virtiofs",
};
DEFINE_STRING_TABLE(domain_fs_driver, enum domain_fs_driver, _DOMAIN_FS_DRIVER_MAX)

static const char *const domain_watchdog_model_table[_DOMAIN_WATCHDOG_MODEL_MAX] = {
    [DOMAIN_WATCHDOG_MODEL_I6300ESB] = "i6300esb",
};
DEFINE_STRING_TABLE(domain_watchdog_model, enum domain_watchdog_model, _DOMAIN_WATCHDOG_MODEL_MAX)

static const char *const domain_watchdog_action_table[_DOMAIN_WATCHDOG_ACTION_MAX] = {
    [DOMAIN_WATCHDOG_ACTION_RESET] = "reset",
};
DEFINE_STRING_TABLE(domain_watchdog_action, enum domain_watchdog_action, _DOMAIN_WATCHDOG_ACTION_MAX)

static const char *const domain_hostdev_type_table[_DOMAIN_HOSTDEV_TYPE_MAX] = {
    [DOMAIN_HOSTDEV_TYPE_PCI] = "pci",
};
DEFINE_STRING_TABLE(domain_hostdev_type, enum domain_hostdev_type, _DOMAIN_HOSTDEV_TYPE_MAX)
