/* SPDX-License-Identifier: Apache-2.0 */
/* Definitions on disk: one <name>.xml per VM, autostart marks as symlinks in autostart/. A save is
 * a temp file in the same folder, fsync, rename over the old file, fsync of the folder: after a
 * crash at any instant the folder holds the old or the new definition, never a torn one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf-internal.h"
#include "domain.h"

#define TEMP_PREFIX ".tmp-"

struct domain_store {
	char *dir;
	int dir_fd;
	int autostart_fd;
	int (*fail_hook)(const char *tmp_path, void *userdata);
	void *fail_userdata;
};

static int open_dir(int at, const char *path, int *ret)
{
	int fd;

	if (mkdirat(at, path, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret = fd;
	return 0;
}

int domain_store_new(const char *dir, struct domain_store **ret)
{
	_cleanup_(domain_store_freep) struct domain_store *s = NULL;
	int r;

	if (!dir || !*dir)
		return -EINVAL;
	s = g_new0(struct domain_store, 1);
	s->dir_fd = s->autostart_fd = -1;
	s->dir = g_strdup(dir);
	r = g_mkdir_with_parents(dir, 0755) < 0 ? -errno : 0;
	if (r >= 0)
		r = open_dir(AT_FDCWD, dir, &s->dir_fd);
	if (r >= 0)
		r = open_dir(s->dir_fd, "autostart", &s->autostart_fd);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

struct domain_store *domain_store_free(struct domain_store *s)
{
	if (!s)
		return NULL;
	safe_close(s->dir_fd);
	safe_close(s->autostart_fd);
	g_free(s->dir);
	g_free(s);
	return NULL;
}

const char *domain_store_dir(const struct domain_store *s)
{
	return s->dir;
}

void domain_store_set_fail_hook(struct domain_store *s, int (*hook)(const char *tmp_path, void *userdata),
				void *userdata)
{
	s->fail_hook = hook;
	s->fail_userdata = userdata;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes xml to the new file tmp, syncs it, and renames it to file (the fail hook in between). */
static int replace_file(struct domain_store *s, const char *tmp, const char *file, const char *xml,
			char **ret_error)
{
	_cleanup_close_ int fd = -1;
	int r;

	/* 0600: definitions name images and sockets other users have no business reading. */
	fd = openat(s->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return conf_error(ret_error, -errno, _("cannot create '%s/%s': %s"), s->dir, tmp,
				  g_strerror(errno));
	r = write_all(fd, xml, strlen(xml));
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && s->fail_hook)
		r = s->fail_hook(tmp, s->fail_userdata);
	if (r >= 0 && renameat(s->dir_fd, tmp, s->dir_fd, file) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(s->dir_fd, tmp, 0);
		return conf_error(ret_error, r, _("cannot save '%s/%s': %s"), s->dir, file, g_strerror(-r));
	}
	return 0;
}

int domain_store_save(struct domain_store *s, const struct domain_def *def, char **ret_error)
{
	g_autofree char *xml = NULL, *file = NULL, *tmp = NULL;
	int r;

	r = domain_name_validate(def->name, ret_error);
	if (r < 0)
		return r;
	r = domain_def_format(def, &xml);
	if (r < 0)
		return conf_error(ret_error, r, _("cannot format the definition of '%s'"), def->name);
	file = g_strconcat(def->name, ".xml", NULL);
	tmp = g_strdup_printf(TEMP_PREFIX "%s.%08x", file, g_random_int());
	r = replace_file(s, tmp, file, xml, ret_error);
	if (r < 0)
		return r;
	/* The rename is durable only once the folder itself reaches the disk. */
	if (fsync(s->dir_fd) < 0)
		return conf_error(ret_error, -errno, _("cannot sync '%s': %s"), s->dir, g_strerror(errno));
	return 0;
}

/* Loads path, which must define the VM name. */
static int load_named(const char *path, const char *name, struct domain_def **ret, char **ret_error)
{
	_cleanup_(domain_def_freep) struct domain_def *def = NULL;
	int r;

	r = domain_def_parse_file(path, &def, ret_error);
	if (r < 0)
		return r;
	if (!streq(def->name, name))
		return conf_error(ret_error, -EINVAL,
				  _("'%s' defines a VM called '%s'; rename the file or the VM"), path,
				  def->name);
	*ret = TAKE_PTR(def);
	return 0;
}

int domain_store_load(struct domain_store *s, const char *name, struct domain_def **ret, char **ret_error)
{
	g_autofree char *path = NULL;
	int r;

	r = domain_name_validate(name, ret_error);
	if (r < 0)
		return r;
	path = g_strdup_printf("%s/%s.xml", s->dir, name);
	return load_named(path, name, ret, ret_error);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int domain_store_load_all(struct domain_store *s, struct domain_def ***ret, char ***ret_errors)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) defs = g_ptr_array_new();
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
	DIR *d;
	int fd, count;

	fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		safe_close(fd);
		return -ENOMEM;
	}
	for (struct dirent *e; (e = readdir(d));) {
		/* A temp file left by a crash mid-save is garbage: the rename never happened. */
		if (g_str_has_prefix(e->d_name, TEMP_PREFIX)) {
			(void)unlinkat(s->dir_fd, e->d_name, 0);
			continue;
		}
		if (e->d_name[0] == '.' || !g_str_has_suffix(e->d_name, ".xml"))
			continue;
		g_ptr_array_add(names, g_strndup(e->d_name, strlen(e->d_name) - 4));
	}
	closedir(d);
	qsort(names->pdata, names->len, sizeof(char *), compare_names);
	for (guint i = 0; i < names->len; i++) {
		struct domain_def *def = NULL;
		char *err = NULL;

		if (domain_store_load(s, names->pdata[i], &def, &err) < 0)
			g_ptr_array_add(errors, err);
		else
			g_ptr_array_add(defs, def);
	}
	count = (int)defs->len;
	g_ptr_array_add(defs, NULL);
	*ret = (struct domain_def **)g_ptr_array_free(g_steal_pointer(&defs), FALSE);
	if (ret_errors) {
		g_ptr_array_add(errors, NULL);
		*ret_errors = (char **)g_ptr_array_free(g_steal_pointer(&errors), FALSE);
	}
	return count;
}

int domain_store_remove(struct domain_store *s, const char *name)
{
	g_autofree char *file = NULL;
	int r;

	r = domain_name_validate(name, NULL);
	if (r < 0)
		return r;
	file = g_strconcat(name, ".xml", NULL);
	if (unlinkat(s->autostart_fd, file, 0) < 0 && errno != ENOENT)
		return -errno;
	if (unlinkat(s->dir_fd, file, 0) < 0)
		return -errno;
	if (fsync(s->autostart_fd) < 0 || fsync(s->dir_fd) < 0)
		return -errno;
	return 0;
}

int domain_store_set_autostart(struct domain_store *s, const char *name, bool enable)
{
	g_autofree char *file = NULL, *target = NULL;
	int r;

	r = domain_name_validate(name, NULL);
	if (r < 0)
		return r;
	file = g_strconcat(name, ".xml", NULL);
	if (enable) {
		if (faccessat(s->dir_fd, file, F_OK, 0) < 0)
			return -errno;
		/* Relative, so the folder can move (tests, user mode) without breaking the mark. */
		target = g_strconcat("../", file, NULL);
		if (symlinkat(target, s->autostart_fd, file) < 0 && errno != EEXIST)
			return -errno;
	} else if (unlinkat(s->autostart_fd, file, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync(s->autostart_fd) < 0 ? -errno : 0;
}

int domain_store_get_autostart(struct domain_store *s, const char *name)
{
	g_autofree char *file = NULL;
	struct stat st;
	int r;

	r = domain_name_validate(name, NULL);
	if (r < 0)
		return r;
	file = g_strconcat(name, ".xml", NULL);
	if (fstatat(s->autostart_fd, file, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 1;
}
