/* SPDX-License-Identifier: Apache-2.0 */
/* VM definitions: the subset of libvirt's domain XML that vmm-worker can honour (docs/chd-domain.5).
 * Parse (libxml2 + RelaxNG against schemas/domain.rng + semantic checks), canonicalise (uuid, MACs,
 * PCI slots, defaults), format back to XML, store atomically in a folder, and turn a definition
 * into the vmm-worker command line. Every function returns 0 (or a positive value where stated) on
 * success and a negative errno on failure; those taking "char **ret_error" then set it (when not
 * NULL) to a translated message, to be freed with free() or g_free(), naming the element, the line
 * and the cause, e.g. "line 12: element 'sound' is not supported". */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Longest VM name; names also become file names and D-Bus object path components. */
#define DOMAIN_NAME_MAX 64
#define DOMAIN_UUID_STRING_MAX 37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and NUL */
#define DOMAIN_MAC_STRING_MAX 18  /* "52:54:00:xx:xx:xx" and NUL */
#define DOMAIN_PCI_SLOT_FIRST 1	  /* 00:00.0 is the host bridge */
#define DOMAIN_PCI_SLOT_LAST 31
#define DOMAIN_MEMORY_MIN_KIB (16ULL << 10) /* vmm-worker's VMM_MEMORY_MIN */
#define DOMAIN_VCPUS_MAX 254u		    /* vmm-worker's VMM_CPUS_MAX */

/* <on_poweroff>, <on_reboot>, <on_crash>: what chd does when the guest does that. */
enum domain_lifecycle_action {
	DOMAIN_LIFECYCLE_ACTION_DESTROY, /* "destroy": the VM ends up shut off (crashed for on_crash) */
	DOMAIN_LIFECYCLE_ACTION_RESTART, /* "restart": boot it again */
	_DOMAIN_LIFECYCLE_ACTION_MAX,
	_DOMAIN_LIFECYCLE_ACTION_INVALID = -EINVAL,
};

/* <disk type=...>: where the image lives. */
enum domain_disk_type {
	DOMAIN_DISK_TYPE_FILE,	/* "file": <source file=...> */
	DOMAIN_DISK_TYPE_BLOCK, /* "block": <source dev=...> */
	_DOMAIN_DISK_TYPE_MAX,
	_DOMAIN_DISK_TYPE_INVALID = -EINVAL,
};

/* <target bus=...>. */
enum domain_disk_bus {
	DOMAIN_DISK_BUS_VIRTIO, /* "virtio" */
	_DOMAIN_DISK_BUS_MAX,
	_DOMAIN_DISK_BUS_INVALID = -EINVAL,
};

/* <driver type=...>: the image format. */
enum domain_disk_format {
	DOMAIN_DISK_FORMAT_RAW, /* "raw" */
	_DOMAIN_DISK_FORMAT_MAX,
	_DOMAIN_DISK_FORMAT_INVALID = -EINVAL,
};

/* <driver cache=...>; "none" and "directsync" bypass the host page cache (vmm-worker direct=on). */
enum domain_disk_cache {
	DOMAIN_DISK_CACHE_DEFAULT,	/* "default" (attribute absent) */
	DOMAIN_DISK_CACHE_NONE,		/* "none" */
	DOMAIN_DISK_CACHE_WRITETHROUGH, /* "writethrough" */
	DOMAIN_DISK_CACHE_WRITEBACK,	/* "writeback" */
	DOMAIN_DISK_CACHE_DIRECTSYNC,	/* "directsync" */
	DOMAIN_DISK_CACHE_UNSAFE,	/* "unsafe" */
	_DOMAIN_DISK_CACHE_MAX,
	_DOMAIN_DISK_CACHE_INVALID = -EINVAL,
};

/* <driver io=...>: the host I/O engine. */
enum domain_disk_io {
	DOMAIN_DISK_IO_DEFAULT,	 /* "default" (attribute absent): the worker picks */
	DOMAIN_DISK_IO_THREADS,	 /* "threads" */
	DOMAIN_DISK_IO_NATIVE,	 /* "native" (Linux AIO); needs cache none or directsync */
	DOMAIN_DISK_IO_IO_URING, /* "io_uring" */
	_DOMAIN_DISK_IO_MAX,
	_DOMAIN_DISK_IO_INVALID = -EINVAL,
};

/* <interface type=...>. "ethernet" is a tap device (named by <target dev=...> or made by the
 * worker); bridges and networks are chd's business later. */
enum domain_interface_type {
	DOMAIN_INTERFACE_TYPE_ETHERNET, /* "ethernet" */
	_DOMAIN_INTERFACE_TYPE_MAX,
	_DOMAIN_INTERFACE_TYPE_INVALID = -EINVAL,
};

/* <model type=...> of an interface, <rng model=...>, <vsock model=...>, <memballoon model=...>. */
enum domain_device_model {
	DOMAIN_DEVICE_MODEL_VIRTIO, /* "virtio" */
	DOMAIN_DEVICE_MODEL_NONE,   /* "none": memballoon only, no device */
	_DOMAIN_DEVICE_MODEL_MAX,
	_DOMAIN_DEVICE_MODEL_INVALID = -EINVAL,
};

/* <serial type=...>, <console type=...>: where the character device goes. */
enum domain_chr_type {
	DOMAIN_CHR_TYPE_NULL,  /* "null": device present, output discarded */
	DOMAIN_CHR_TYPE_PTY,   /* "pty": a pseudo-terminal; chd reports its path */
	DOMAIN_CHR_TYPE_FILE,  /* "file": output written to <source path=...> */
	DOMAIN_CHR_TYPE_STDIO, /* "stdio": the worker's stdin/stdout (standalone use) */
	_DOMAIN_CHR_TYPE_MAX,
	_DOMAIN_CHR_TYPE_INVALID = -EINVAL,
};

/* <console><target type=...>: "serial" is another view of serial port 0 (libvirt's default),
 * "virtio" a virtio console device. */
enum domain_console_target {
	DOMAIN_CONSOLE_TARGET_SERIAL, /* "serial" */
	DOMAIN_CONSOLE_TARGET_VIRTIO, /* "virtio" */
	_DOMAIN_CONSOLE_TARGET_MAX,
	_DOMAIN_CONSOLE_TARGET_INVALID = -EINVAL,
};

/* <rng><backend model=...>. */
enum domain_rng_backend {
	DOMAIN_RNG_BACKEND_RANDOM, /* "random": a host device file, /dev/urandom or /dev/random */
	_DOMAIN_RNG_BACKEND_MAX,
	_DOMAIN_RNG_BACKEND_INVALID = -EINVAL,
};

/* <filesystem><driver type=...>. */
enum domain_fs_driver {
	DOMAIN_FS_DRIVER_VIRTIOFS, /* "virtiofs": <source socket=...> of a running virtiofsd */
	_DOMAIN_FS_DRIVER_MAX,
	_DOMAIN_FS_DRIVER_INVALID = -EINVAL,
};

/* <watchdog model=...>: the only model maps to vmm-worker's --watchdog device. */
enum domain_watchdog_model {
	DOMAIN_WATCHDOG_MODEL_I6300ESB, /* "i6300esb" */
	_DOMAIN_WATCHDOG_MODEL_MAX,
	_DOMAIN_WATCHDOG_MODEL_INVALID = -EINVAL,
};

/* <watchdog action=...>. */
enum domain_watchdog_action {
	DOMAIN_WATCHDOG_ACTION_RESET, /* "reset" */
	_DOMAIN_WATCHDOG_ACTION_MAX,
	_DOMAIN_WATCHDOG_ACTION_INVALID = -EINVAL,
};

/* <hostdev mode='subsystem' type=...>. */
enum domain_hostdev_type {
	DOMAIN_HOSTDEV_TYPE_PCI, /* "pci": VFIO passthrough of a host PCI function */
	_DOMAIN_HOSTDEV_TYPE_MAX,
	_DOMAIN_HOSTDEV_TYPE_INVALID = -EINVAL,
};

const char *domain_lifecycle_action_to_string(enum domain_lifecycle_action v);
enum domain_lifecycle_action domain_lifecycle_action_from_string(const char *s);
const char *domain_disk_type_to_string(enum domain_disk_type v);
enum domain_disk_type domain_disk_type_from_string(const char *s);
const char *domain_disk_bus_to_string(enum domain_disk_bus v);
enum domain_disk_bus domain_disk_bus_from_string(const char *s);
const char *domain_disk_format_to_string(enum domain_disk_format v);
enum domain_disk_format domain_disk_format_from_string(const char *s);
const char *domain_disk_cache_to_string(enum domain_disk_cache v);
enum domain_disk_cache domain_disk_cache_from_string(const char *s);
const char *domain_disk_io_to_string(enum domain_disk_io v);
enum domain_disk_io domain_disk_io_from_string(const char *s);
const char *domain_interface_type_to_string(enum domain_interface_type v);
enum domain_interface_type domain_interface_type_from_string(const char *s);
const char *domain_device_model_to_string(enum domain_device_model v);
enum domain_device_model domain_device_model_from_string(const char *s);
const char *domain_chr_type_to_string(enum domain_chr_type v);
enum domain_chr_type domain_chr_type_from_string(const char *s);
const char *domain_console_target_to_string(enum domain_console_target v);
enum domain_console_target domain_console_target_from_string(const char *s);
const char *domain_rng_backend_to_string(enum domain_rng_backend v);
enum domain_rng_backend domain_rng_backend_from_string(const char *s);
const char *domain_fs_driver_to_string(enum domain_fs_driver v);
enum domain_fs_driver domain_fs_driver_from_string(const char *s);
const char *domain_watchdog_model_to_string(enum domain_watchdog_model v);
enum domain_watchdog_model domain_watchdog_model_from_string(const char *s);
const char *domain_watchdog_action_to_string(enum domain_watchdog_action v);
enum domain_watchdog_action domain_watchdog_action_from_string(const char *s);
const char *domain_hostdev_type_to_string(enum domain_hostdev_type v);
enum domain_hostdev_type domain_hostdev_type_from_string(const char *s);

/* <address type='pci' domain='0x0000' bus='0x00' slot='0x..' function='0x0'/>: where a device sits
 * on the guest's PCI bus. Canonical definitions have one on every PCI device. */
struct domain_pci_address {
	bool set;
	uint16_t domain;
	uint8_t bus;
	uint8_t slot;
	uint8_t function;
};

struct domain_disk {
	enum domain_disk_type type;
	char *source; /* file or block device path */
	char *target; /* guest name, "vda": also the worker's device id */
	enum domain_disk_bus bus;
	enum domain_disk_format format;
	enum domain_disk_cache cache;
	enum domain_disk_io io;
	bool readonly;
	char *serial; /* NULL when not given */
	struct domain_pci_address address;
};

struct domain_interface {
	enum domain_interface_type type;
	char *target_dev; /* tap name; NULL: the worker creates one */
	bool mac_set;
	uint8_t mac[6];
	enum domain_device_model model;
	struct domain_pci_address address;
};

/* A <serial> or a <console>. */
struct domain_chr {
	enum domain_chr_type type;
	char *path;			   /* DOMAIN_CHR_TYPE_FILE only */
	enum domain_console_target target; /* <console> only */
	char *log_file;			   /* <log file=...>, DOMAIN_CHR_TYPE_PTY only; NULL: none */
	bool log_append;		   /* <log append='on'>: keep what earlier runs wrote */
};

struct domain_rng {
	enum domain_device_model model;
	enum domain_rng_backend backend;
	char *source; /* "/dev/urandom" */
	struct domain_pci_address address;
};

struct domain_filesystem {
	enum domain_fs_driver driver;
	char *socket; /* virtiofsd's vhost-user socket */
	char *tag;    /* <target dir=...>: the mount tag the guest sees */
	struct domain_pci_address address;
};

struct domain_vsock {
	enum domain_device_model model;
	bool cid_auto; /* <cid auto='yes'/>: canonicalisation picks one */
	uint32_t cid;  /* >= 3 */
	struct domain_pci_address address;
};

struct domain_memballoon {
	enum domain_device_model model; /* NONE: no balloon device */
	struct domain_pci_address address;
};

struct domain_watchdog {
	enum domain_watchdog_model model;
	enum domain_watchdog_action action;
	struct domain_pci_address address;
};

struct domain_hostdev {
	enum domain_hostdev_type type;
	bool managed;			   /* chd binds the function to vfio-pci and back */
	struct domain_pci_address source;  /* the host function */
	struct domain_pci_address address; /* where the guest sees it */
};

/* One VM definition. Arrays own their elements; domain_def_free() frees everything. */
struct domain_def {
	char *name;
	bool uuid_set;
	uint8_t uuid[16];
	char *title;	   /* one line, or NULL */
	char *description; /* or NULL */

	uint64_t memory_kib;	     /* <memory>: RAM at boot */
	uint64_t current_memory_kib; /* <currentMemory>: balloon target; 0 = not given */
	uint64_t max_memory_kib;     /* <maxMemory>: hot-plug ceiling; 0 = none */
	unsigned max_memory_slots;   /* <maxMemory slots=...> */

	unsigned vcpus;		/* <vcpu>N</vcpu>: the maximum */
	unsigned vcpus_current; /* <vcpu current=...>: at boot; 0 = not given */

	char *os_kernel;
	char *os_initrd;
	char *os_cmdline;
	char *os_loader; /* firmware; exclusive with os_kernel */

	enum domain_lifecycle_action on_poweroff;
	enum domain_lifecycle_action on_reboot;
	enum domain_lifecycle_action on_crash;
	bool acpi;
	bool apic; /* <features><apic/>: always true in effect; kept so what was written stays */

	struct domain_disk *disks;
	size_t n_disks;
	struct domain_interface *interfaces;
	size_t n_interfaces;
	struct domain_chr *serial; /* at most one; NULL when none */
	struct domain_chr *console;
	struct domain_rng *rng;
	struct domain_filesystem *filesystems;
	size_t n_filesystems;
	struct domain_vsock *vsock;
	struct domain_memballoon *memballoon;
	struct domain_watchdog *watchdog;
	struct domain_hostdev *hostdevs;
	size_t n_hostdevs;
};

struct domain_def *domain_def_free(struct domain_def *def);
DEFINE_POINTER_CLEANUP(struct domain_def, domain_def_free);

/* The serial port: <serial>, or a <console> of target serial when there is no <serial>. NULL
 * when the VM has none. */
const struct domain_chr *domain_def_serial_port(const struct domain_def *def);
/* The <console> of target virtio, or NULL. */
const struct domain_chr *domain_def_virtio_console(const struct domain_def *def);

/* The folder holding domain.rng: $CHD_SCHEMA_DIR when set (tests and the build tree), else the
 * installed one ($datadir/chd/schemas). */
const char *domain_schema_dir(void);

/* Parses and validates one definition: well-formed XML, only supported elements and attributes,
 * valid against schemas/domain.rng, and the semantic checks (memory sizes, vCPU counts, kernel or
 * loader, unique devices, name). Does not canonicalise. Errors: -EINVAL with the message,
 * -ENOENT for a missing schema, -ENOMEM. */
int domain_def_parse(const char *xml, size_t len, struct domain_def **ret, char **ret_error);
int domain_def_parse_file(const char *path, struct domain_def **ret, char **ret_error);

/* Where canonicalisation takes its randomness (uuid, MACs, vsock CIDs). NULL everywhere means the
 * kernel's random numbers; a seeded source makes the output reproducible (tests). */
struct domain_random {
	uint32_t (*next)(void *userdata);
	void *userdata;
};

/* Fills what a definition left out, the way libvirt does on define: uuid, MAC addresses
 * (52:54:00:xx:xx:xx), a unique PCI slot per device, vsock CID, on_* defaults (destroy, restart,
 * destroy), currentMemory = memory, vcpu current, a memballoon (model none when absent), ACPI.
 * Idempotent: a canonical definition stays as it is. -EINVAL with a message when the PCI bus is
 * full. */
int domain_def_canonicalize(struct domain_def *def, const struct domain_random *rnd, char **ret_error);

/* The definition as libvirt domain XML (memory in KiB, every device with its address when set).
 * Canonical definitions validate against libvirt's own domain.rng. Returns a g_malloc'd string. */
int domain_def_format(const struct domain_def *def, char **ret);

/* A name that can be a file name and a D-Bus path component: 1..DOMAIN_NAME_MAX of [A-Za-z0-9._+-],
 * starting with a letter or digit. 0 when valid, else -EINVAL with the reason. */
int domain_name_validate(const char *name, char **ret_error);

/* uuid/MAC text helpers; strings are written to caller buffers of the _STRING_MAX sizes. */
int domain_uuid_parse(const char *s, uint8_t ret[16]);
void domain_uuid_format(const uint8_t uuid[16], char buf[DOMAIN_UUID_STRING_MAX]);
int domain_mac_parse(const char *s, uint8_t ret[6]);
void domain_mac_format(const uint8_t mac[6], char buf[DOMAIN_MAC_STRING_MAX]);

/* Definitions stored in one folder as <name>.xml, autostart marks as symlinks
 * autostart/<name>.xml -> ../<name>.xml. Saves are atomic: a temp file in the same folder, fsync,
 * rename, fsync of the folder; a crash leaves the old or the new file, never a torn one. */
struct domain_store;

/* Opens (creating when missing, mode 0755) the folder and its autostart/ folder. */
int domain_store_new(const char *dir, struct domain_store **ret);
struct domain_store *domain_store_free(struct domain_store *store);
DEFINE_POINTER_CLEANUP(struct domain_store, domain_store_free);
const char *domain_store_dir(const struct domain_store *store);

/* Formats def and writes it as <def->name>.xml, replacing any previous one atomically. */
int domain_store_save(struct domain_store *store, const struct domain_def *def, char **ret_error);
/* Loads <name>.xml: -ENOENT when there is none. */
int domain_store_load(struct domain_store *store, const char *name, struct domain_def **ret,
		      char **ret_error);
/* Loads every <name>.xml. Files that fail to load (or whose <name> differs from their file name)
 * are skipped and reported in *ret_errors (one message each, may be NULL); the rest land in *ret,
 * sorted by name, a NULL-terminated array to free with domain_def_array_free(). Returns the count. */
int domain_store_load_all(struct domain_store *store, struct domain_def ***ret, char ***ret_errors);
void domain_def_array_free(struct domain_def **defs);
/* Removes <name>.xml and its autostart mark; -ENOENT when there is no such definition. */
int domain_store_remove(struct domain_store *store, const char *name);
/* Creates or removes the autostart mark (idempotent); -ENOENT when the definition is missing. */
int domain_store_set_autostart(struct domain_store *store, const char *name, bool enable);
/* 1 when marked, 0 when not, negative errno on failure. */
int domain_store_get_autostart(struct domain_store *store, const char *name);

/* Test hook: called after the temp file is written and synced, before the rename; a negative
 * return aborts the save there (the temp file is removed, the old definition stays). */
void domain_store_set_fail_hook(struct domain_store *store,
				int (*hook)(const char *tmp_path, void *userdata), void *userdata);

/* What the daemon substitutes in the worker command line. */
struct domain_argv_options {
	const char *program; /* argv[0]; NULL: "vmm-worker" */
	const int *net_fds;  /* one per <interface>, in order; -1 or n_net_fds short: tap=NAME */
	size_t n_net_fds;
	const int *disk_fds; /* one per <disk>; >= 0: path=/dev/fd/N instead of the source */
	size_t n_disk_fds;
	const char *vsock_socket; /* host unix socket for <vsock>; required when the VM has one */
	const char *serial_path;  /* overrides a pty/file serial's destination (e.g. a console log) */
	/* The console logs of a pty serial port and a pty virtio console (pty,log=...): a path or
	 * "/dev/fd/N"; they override <log file=...>. NULL: the definition's <log>, if any. */
	const char *serial_log;
	const char *console_log;
};

/* The vmm-worker command line for def (canonical or not), in Cloud Hypervisor's grammar:
 * --kernel/--firmware --initramfs --cmdline --cpus boot=N,max=M --memory size=...K[,hotplug_size=
 * ...K][,shared=on] --disk path=...,readonly=on,direct=on,serial=...,id=... --net tap=NAME|fd=N,
 * mac=...,id=... --rng src=... --fs tag=...,socket=... --vsock cid=...,socket=... --balloon ...
 * --watchdog --device path=... --serial ... --console .... *ret is a NULL-terminated g_strv. */
int domain_def_to_argv(const struct domain_def *def, const struct domain_argv_options *opts, char ***ret,
		       char **ret_error);
