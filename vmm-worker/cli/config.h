/* SPDX-License-Identifier: Apache-2.0 */
/* What the command line asks of the VMM, in Cloud Hypervisor's grammar (--kernel, --cpus boot=,
 * --memory size=, --serial tty, ...). vmm_config_parse() fills it and checks it whole; the rest
 * of the VMM reads it and never sees argv. chd produces the same command line, so standalone and
 * managed workers share this one code path. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

#define VMM_CPUS_DEFAULT 1u
/* APIC IDs are 8 bits without x2APIC and 0xff is the broadcast ID; Cloud Hypervisor's limit too. */
#define VMM_CPUS_MAX 254u
#define VMM_MEMORY_DEFAULT (512ULL << 20)
#define VMM_MEMORY_MIN (16ULL << 20)
/* 64 TiB: Cloud Hypervisor's default guest physical address width (max_phys_bits=46). Also keeps
 * every later "base + size" far from overflowing. */
#define VMM_MEMORY_MAX (1ULL << 46)
#define VMM_MEMORY_ALIGN 4096ULL /* Cloud Hypervisor refuses sizes that are not page multiples */

/* Where the legacy serial port (--serial) or the virtio console (--console) goes. */
enum output_mode {
	OUTPUT_MODE_OFF,  /* no device at all */
	OUTPUT_MODE_NULL, /* device present, output discarded, no input */
	OUTPUT_MODE_TTY,  /* our stdin/stdout */
	OUTPUT_MODE_PTY,  /* a new pseudo-terminal whose name the VMM reports */
	OUTPUT_MODE_FILE, /* output written to path (created or truncated, as CH), no input */
	_OUTPUT_MODE_MAX,
	_OUTPUT_MODE_INVALID = -EINVAL,
};

const char *output_mode_to_string(enum output_mode m);
enum output_mode output_mode_from_string(const char *s);

struct output_config {
	enum output_mode mode;
	char *path; /* OUTPUT_MODE_FILE only, else NULL */
	char *log;  /* pty,log=<path>: a copy of the guest's output appended there (a chd extension);
		     * "/dev/fd/N" adopts the inherited fd N. NULL: none */
};

/* --rng: Cloud Hypervisor always gives the guest a virtio-rng, reading /dev/urandom by default. */
#define VMM_RNG_DEFAULT_SRC "/dev/urandom"
struct rng_config {
	bool enabled;
	char *src; /* NULL: VMM_RNG_DEFAULT_SRC */
};

/* --disk (repeatable, and several values after one --disk, as Cloud Hypervisor): one virtio-blk
 * each. path=/dev/fd/N uses the inherited fd N (chd passes images that way). */
#define VMM_DISK_QUEUES_MAX 64u /* VIRTIO_MAX_QUEUES */
#define VMM_DISK_QUEUE_SIZE_DEFAULT 128u
#define VMM_DISK_QUEUE_SIZE_MAX 4096u
#define VMM_DISK_SERIAL_MAX 20u /* virtio-blk's VIRTIO_BLK_ID_BYTES */
struct disk_config {
	char *path;
	bool readonly;
	bool direct;
	unsigned num_queues; /* 1..VMM_DISK_QUEUES_MAX */
	unsigned queue_size; /* a power of two, 2..VMM_DISK_QUEUE_SIZE_MAX */
	char *serial;	     /* NULL: derived from the image file */
	char *id;	     /* for messages; NULL: none */
};

/* --net: one virtio-net device per value, Cloud Hypervisor's grammar. */
#define VMM_NET_NUM_QUEUES_DEFAULT 2u  /* RX + TX queues: one pair */
#define VMM_NET_NUM_QUEUES_MAX 62u     /* 31 pairs: with the control queue, virtio's 64 */
#define VMM_NET_QUEUE_SIZE_DEFAULT 256u
#define VMM_NET_QUEUE_SIZE_MAX 32768u
#define VMM_NET_TAP_DEFAULT "vmtap%d" /* the name pattern of a tap created when none is named */
struct net_config {
	char *tap;   /* tap=: attached to, or created (with ip/mask) when it does not exist */
	int *fds;    /* fd=: open tap queues, one per pair (n_fds = num_queues / 2) */
	size_t n_fds;
	uint8_t mac[6];	     /* the guest's; random under 52:54:00 when not given */
	uint8_t host_mac[6]; /* host_mac=: set on the tap when host_mac_set */
	bool host_mac_set;
	bool ip_set;	       /* ip= given: ip and mask (default 255.255.255.0) go on the tap */
	uint32_t ip, mask;     /* network byte order */
	unsigned num_queues;   /* even, 2..VMM_NET_NUM_QUEUES_MAX */
	unsigned queue_size;   /* power of two, 2..VMM_NET_QUEUE_SIZE_MAX */
	bool offload_tso, offload_ufo, offload_csum; /* default on */
	char *id;
};

/* --vsock cid=<n>,socket=<path>: a virtio-vsock device on the hybrid unix-socket backend. */
#define VSOCK_SYNTAX "cid=<context_id>,socket=<socket_path>[,id=<device_id>]"
#define VMM_VSOCK_CID_MIN 3u	       /* 0-2: hypervisor, loopback, host */
#define VMM_VSOCK_CID_MAX 0xfffffffeu /* 0xffffffff is VMADDR_CID_ANY */
struct vsock_config {
	bool enabled;
	uint32_t cid;
	char *socket;
	char *id; /* accepted for Cloud Hypervisor's command lines; names nothing yet */
};

struct vmm_config {
	/* Boot payload: exactly one of kernel and firmware. */
	char *kernel;
	char *initramfs;
	char *cmdline; /* NULL when not given: boot with an empty command line */
	char *firmware;

	unsigned cpus_boot;   /* --cpus boot=: 1..VMM_CPUS_MAX */
	unsigned cpus_max;    /* --cpus max=: cpus_boot..VMM_CPUS_MAX; above boot leaves room for hot-plug */
	uint64_t memory_size; /* --memory size=: bytes, VMM_MEMORY_MIN..VMM_MEMORY_MAX, a multiple of
			       * VMM_MEMORY_ALIGN */

	struct output_config serial;  /* default null */
	struct output_config console; /* default tty */

	struct rng_config rng; /* default: enabled, /dev/urandom */
	struct vsock_config vsock; /* default: none */

	/* Repeatable devices land here as arrays parsed with option_list_parse(), one element per
	 * --disk/--net/... value. */
	struct disk_config *disks;
	size_t n_disks;
	struct net_config *nets;
	size_t n_nets;

	/* --control-socket: the org.cloudhypervisor.chd1.Worker peer D-Bus socket (control/). At most
	 * one of: a path to create, or an inherited listening socket (control_fd >= 3; else -1). */
	char *control_path;
	int control_fd;

	unsigned verbosity; /* number of -v */
	char *log_file;	    /* NULL: standard error */
};

/* Defaults, as Cloud Hypervisor's: 1 vCPU, 512 MiB, serial null, console tty, nothing else. */
void vmm_config_init(struct vmm_config *cfg);

/* Fills cfg from argv (argv[0] is the program name) and validates it. Returns 0 on success; 1 when
 * --help or --version printed its text to stdout and the caller should exit 0; a negative errno
 * otherwise (-EINVAL bad syntax or value, -ERANGE out of range, -EOPNOTSUPP a Cloud Hypervisor
 * option or parameter not implemented yet, -ENOMEM) with *ret_error set to a malloc'd message that
 * names the option and the expected syntax (when ret_error is not NULL). Unless it returns 0, cfg
 * holds nothing to free. Resets getopt's state, so it may be called repeatedly. */
int vmm_config_parse(struct vmm_config *cfg, int argc, char **argv, char **ret_error);

/* One option's value, as in "--cpus boot=2,max=4"; same returns and messages as
 * vmm_config_parse(). What they fill is only written on success. */
int vmm_config_parse_cpus(struct vmm_config *cfg, const char *s, char **ret_error);
int vmm_config_parse_memory(struct vmm_config *cfg, const char *s, char **ret_error);
int vmm_config_parse_rng(struct vmm_config *cfg, const char *s, char **ret_error);
/* Appends one disk to cfg->disks. */
int vmm_config_parse_disk(struct vmm_config *cfg, const char *s, char **ret_error);
int vmm_config_parse_vsock(struct vmm_config *cfg, const char *s, char **ret_error);
void vsock_config_done(struct vsock_config *v);
int output_config_parse_serial(struct output_config *out, const char *s, char **ret_error);
int output_config_parse_console(struct output_config *out, const char *s, char **ret_error);
/* One --net value, appended to cfg->nets. */
int vmm_config_parse_net(struct vmm_config *cfg, const char *s, char **ret_error);
void net_config_done(struct net_config *n);
void disk_config_done(struct disk_config *d);
/* "<path>", "path=<path>" or "fd=<n>" (n >= 3, an inherited listening socket). */
int vmm_config_parse_control_socket(struct vmm_config *cfg, const char *s, char **ret_error);

/* The cross-option checks vmm_config_parse() ends with, for configurations built without argv. */
int vmm_config_validate(struct vmm_config *cfg, char **ret_error);

/* The entropy source --rng names, or the default. */
const char *vmm_config_rng_src(const struct vmm_config *cfg);

/* Frees what cfg owns and leaves it zeroed; safe to call twice. */
void vmm_config_done(struct vmm_config *cfg);

/* The --help text. */
int vmm_config_help(FILE *f);

/* -v count to log level: none = warnings and errors, -v = info, -vv and more = debug. */
enum log_level vmm_config_log_level(const struct vmm_config *cfg);
