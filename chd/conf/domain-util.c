/* SPDX-License-Identifier: Apache-2.0 */
/* Small pieces of the definition model: freeing, names, uuids, MACs, units, numbers, messages. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf-internal.h"
#include "domain.h"

int conf_error(char **ret_error, int r, const char *fmt, ...)
{
	va_list ap;

	if (ret_error) {
		va_start(ap, fmt);
		*ret_error = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	return r;
}

struct domain_chr *conf_chr_free(struct domain_chr *chr)
{
	if (chr) {
		g_free(chr->path);
		g_free(chr->log_file);
		g_free(chr);
	}
	return NULL;
}

struct domain_def *domain_def_free(struct domain_def *def)
{
	if (!def)
		return NULL;
	g_free(def->name);
	g_free(def->title);
	g_free(def->description);
	g_free(def->os_kernel);
	g_free(def->os_initrd);
	g_free(def->os_cmdline);
	g_free(def->os_loader);
	for (size_t i = 0; i < def->n_disks; i++) {
		g_free(def->disks[i].source);
		g_free(def->disks[i].target);
		g_free(def->disks[i].serial);
	}
	g_free(def->disks);
	for (size_t i = 0; i < def->n_interfaces; i++)
		g_free(def->interfaces[i].target_dev);
	g_free(def->interfaces);
	conf_chr_free(def->serial);
	conf_chr_free(def->console);
	if (def->rng)
		g_free(def->rng->source);
	g_free(def->rng);
	for (size_t i = 0; i < def->n_filesystems; i++) {
		g_free(def->filesystems[i].socket);
		g_free(def->filesystems[i].tag);
	}
	g_free(def->filesystems);
	g_free(def->vsock);
	g_free(def->memballoon);
	g_free(def->watchdog);
	g_free(def->hostdevs);
	g_free(def);
	return NULL;
}

void domain_def_array_free(struct domain_def **defs)
{
	if (!defs)
		return;
	for (struct domain_def **d = defs; *d; d++)
		domain_def_free(*d);
	g_free(defs);
}

int domain_name_validate(const char *name, char **ret_error)
{
	size_t len;

	if (!name || !*name)
		return conf_error(ret_error, -EINVAL, _("the VM name is empty"));
	len = strlen(name);
	if (len > DOMAIN_NAME_MAX)
		return conf_error(ret_error, -EINVAL, _("VM name '%s' is longer than %d characters"), name,
				  DOMAIN_NAME_MAX);
	if (strchr(name, '/'))
		return conf_error(ret_error, -EINVAL,
				  _("VM name '%s' contains '/'; names become file names"), name);
	if (!g_ascii_isalnum(name[0]))
		return conf_error(ret_error, -EINVAL, _("VM name '%s' must start with a letter or a digit"),
				  name);
	for (const char *p = name; *p; p++) {
		if (g_ascii_isalnum(*p) || strchr("._+-", *p))
			continue;
		return conf_error(
		    ret_error, -EINVAL,
		    _("VM name '%s' contains '%c'; use letters, digits, '.', '_', '+' and '-'"), name,
		    g_ascii_isprint(*p) ? *p : '?');
	}
	return 0;
}

/* libvirt accepts 32 hex digits with dashes and spaces anywhere between byte pairs. */
int domain_uuid_parse(const char *s, uint8_t ret[16])
{
	uint8_t uuid[16];
	size_t n = 0;

	if (!s)
		return -EINVAL;
	while (*s && n < 16) {
		if (*s == '-' || *s == ' ') {
			s++;
			continue;
		}
		if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1]))
			return -EINVAL;
		uuid[n++] = (uint8_t)(g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]));
		s += 2;
	}
	while (*s == ' ')
		s++;
	if (n != 16 || *s)
		return -EINVAL;
	memcpy(ret, uuid, 16);
	return 0;
}

void domain_uuid_format(const uint8_t u[16], char buf[DOMAIN_UUID_STRING_MAX])
{
	snprintf(buf, DOMAIN_UUID_STRING_MAX,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

int domain_mac_parse(const char *s, uint8_t ret[6])
{
	uint8_t mac[6];

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < 6; i++) {
		if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1]))
			return -EINVAL;
		mac[i] = (uint8_t)(g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]));
		s += 2;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	memcpy(ret, mac, 6);
	return 0;
}

void domain_mac_format(const uint8_t m[6], char buf[DOMAIN_MAC_STRING_MAX])
{
	snprintf(buf, DOMAIN_MAC_STRING_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
}

int conf_parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	guint64 v;
	int base = 10;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* g_ascii_string_to_unsigned takes no sign, no space, no prefix: exactly what we want. */
	if (!g_ascii_string_to_unsigned(s, base, 0, G_MAXUINT64, &v, NULL))
		return errno == ERANGE ? -ERANGE : -EINVAL;
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* As libvirt's virScaleInteger: the first letter picks the power, "", "iB" mean 1024, "B" 1000. */
int conf_scale_to_kib(const char *value, const char *unit, uint64_t *ret)
{
	static const char powers[] = "kmgtpe";
	uint64_t v, scale = 1, base;
	const char *p;
	int r;

	r = conf_parse_uint(value, UINT64_MAX, &v);
	if (r < 0 || (value && value[0] == '0' && (value[1] == 'x' || value[1] == 'X')))
		return r < 0 ? r : -EINVAL;
	if (!unit || !*unit)
		unit = "KiB";
	if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "bytes") == 0 ||
	    g_ascii_strcasecmp(unit, "byte") == 0) {
		/* Round up: libvirt never hands a guest less than it asked for. */
		*ret = v / 1024 + (v % 1024 != 0);
		return 0;
	}
	p = strchr(powers, g_ascii_tolower(unit[0]));
	if (!p || !unit[0])
		return -EINVAL;
	if (!unit[1] || g_ascii_strcasecmp(unit + 1, "ib") == 0)
		base = 1024;
	else if (g_ascii_strcasecmp(unit + 1, "b") == 0)
		base = 1000;
	else
		return -EINVAL;
	for (long i = 0; i <= p - powers; i++)
		scale *= base;
	if (v != 0 && scale > UINT64_MAX / v)
		return -ERANGE;
	v *= scale;
	*ret = v / 1024 + (v % 1024 != 0);
	return 0;
}

bool conf_path_is_absolute(const char *path)
{
	return path && path[0] == '/';
}

const char *domain_schema_dir(void)
{
	const char *e = g_getenv("CHD_SCHEMA_DIR");

	return e && *e ? e : CHD_SCHEMA_DIR;
}

const struct domain_chr *domain_def_serial_port(const struct domain_def *def)
{
	if (def->serial)
		return def->serial;
	if (def->console && def->console->target == DOMAIN_CONSOLE_TARGET_SERIAL)
		return def->console;
	return NULL;
}

const struct domain_chr *domain_def_virtio_console(const struct domain_def *def)
{
	return def->console && def->console->target == DOMAIN_CONSOLE_TARGET_VIRTIO ? def->console : NULL;
}
