/* SPDX-License-Identifier: Apache-2.0 */
/* The definitions folder on a real file system: save/load round trips, atomic replacement (a save
 * that fails before its rename leaves the old file byte for byte and no temp file), crash debris
 * cleaned on load, load_all with broken neighbours, autostart symlinks, remove, name checks. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain.h"

#include <glib.h>
#include <glib/gstdio.h>

#define DEF_XML(name, mib)                                                                                  \
	"<domain type='kvm'><name>" name "</name><memory unit='MiB'>" #mib "</memory>"                      \
	"<os><type>hvm</type><kernel>/boot/vmlinuz</kernel></os></domain>"

struct fixture {
	char *dir;
	struct domain_store *store;
};

static void setup(struct fixture *f, gconstpointer data)
{
	g_autofree char *sub = NULL;

	f->dir = g_dir_make_tmp("chd-store-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	/* A folder that does not exist yet, two levels down: the store creates it. */
	sub = g_build_filename(f->dir, "etc", "vms", NULL);
	g_assert_cmpint(domain_store_new(sub, &f->store), ==, 0);
}

static void remove_tree(const char *path)
{
	g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
	const char *e;

	while (d && (e = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(path, e, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			remove_tree(p);
		else
			g_assert_cmpint(unlink(p), ==, 0);
	}
	g_assert_cmpint(rmdir(path), ==, 0);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	domain_store_free(f->store);
	remove_tree(f->dir);
	g_free(f->dir);
}

static struct domain_def *parse(const char *xml)
{
	struct domain_def *def = NULL;
	g_autofree char *err = NULL;

	g_assert_cmpint(domain_def_parse(xml, strlen(xml), &def, &err), ==, 0);
	g_assert_cmpint(domain_def_canonicalize(def, NULL, &err), ==, 0);
	return def;
}

static char *path_of(struct fixture *f, const char *file)
{
	return g_build_filename(domain_store_dir(f->store), file, NULL);
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder's entries other than autostart/, sorted, joined by spaces. */
static char *listing(struct fixture *f)
{
	g_autoptr(GDir) d = g_dir_open(domain_store_dir(f->store), 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	const char *e;

	while ((e = g_dir_read_name(d)))
		if (strcmp(e, "autostart") != 0)
			g_ptr_array_add(names, (char *)e);
	g_ptr_array_sort(names, compare_strings);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(" ", (char **)names->pdata);
}

static void test_save_load(struct fixture *f, gconstpointer data)
{
	_cleanup_(domain_def_freep) struct domain_def *def = parse(DEF_XML("web1", 512));
	_cleanup_(domain_def_freep) struct domain_def *back = NULL;
	g_autofree char *err = NULL, *a = NULL, *b = NULL, *path = path_of(f, "web1.xml"), *l = NULL;
	struct stat st;

	g_assert_true(g_file_test(domain_store_dir(f->store), G_FILE_TEST_IS_DIR));
	g_assert_cmpint(domain_store_save(f->store, def, &err), ==, 0);
	g_assert_null(err);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(domain_store_load(f->store, "web1", &back, &err), ==, 0);
	g_assert_cmpint(domain_def_format(def, &a), ==, 0);
	g_assert_cmpint(domain_def_format(back, &b), ==, 0);
	g_assert_cmpstr(a, ==, b);
	l = listing(f);
	g_assert_cmpstr(l, ==, "web1.xml");

	domain_def_free(g_steal_pointer(&back));
	g_assert_cmpint(domain_store_load(f->store, "nope", &back, &err), ==, -ENOENT);
	g_assert_nonnull(strstr(err, "nope.xml"));
}

static void test_replace(struct fixture *f, gconstpointer data)
{
	_cleanup_(domain_def_freep) struct domain_def *def = parse(DEF_XML("web1", 512));
	_cleanup_(domain_def_freep) struct domain_def *back = NULL;

	g_assert_cmpint(domain_store_save(f->store, def, NULL), ==, 0);
	def->memory_kib = def->current_memory_kib = 1 << 20;
	g_assert_cmpint(domain_store_save(f->store, def, NULL), ==, 0);
	g_assert_cmpint(domain_store_load(f->store, "web1", &back, NULL), ==, 0);
	g_assert_cmpuint(back->memory_kib, ==, 1 << 20);
}

static int fail_before_rename(const char *tmp_path, void *userdata)
{
	struct fixture *f = userdata;
	g_autofree char *path = path_of(f, tmp_path);
	g_autofree char *content = NULL;

	/* The new definition is complete on disk at this point, and still only under its temp name. */
	g_assert_true(g_file_get_contents(path, &content, NULL, NULL));
	g_assert_nonnull(strstr(content, "<memory unit=\"KiB\">2097152</memory>"));
	return -EIO;
}

static void test_failed_save_keeps_old(struct fixture *f, gconstpointer data)
{
	_cleanup_(domain_def_freep) struct domain_def *def = parse(DEF_XML("web1", 512));
	g_autofree char *path = path_of(f, "web1.xml"), *before = NULL, *after = NULL, *err = NULL,
			*l = NULL;

	g_assert_cmpint(domain_store_save(f->store, def, NULL), ==, 0);
	g_assert_true(g_file_get_contents(path, &before, NULL, NULL));

	def->memory_kib = def->current_memory_kib = 2 << 20;
	domain_store_set_fail_hook(f->store, fail_before_rename, f);
	g_assert_cmpint(domain_store_save(f->store, def, &err), ==, -EIO);
	g_assert_nonnull(strstr(err, "web1.xml"));
	domain_store_set_fail_hook(f->store, NULL, NULL);

	g_assert_true(g_file_get_contents(path, &after, NULL, NULL));
	g_assert_cmpstr(after, ==, before);
	l = listing(f);
	g_assert_cmpstr(l, ==, "web1.xml");
}

static void test_load_all(struct fixture *f, gconstpointer data)
{
	_cleanup_(domain_def_freep) struct domain_def *a = parse(DEF_XML("b-vm", 512));
	_cleanup_(domain_def_freep) struct domain_def *b = parse(DEF_XML("a-vm", 256));
	g_autofree char *broken = path_of(f, "broken.xml"), *other = path_of(f, "other.xml");
	g_autofree char *debris = path_of(f, ".tmp-a-vm.xml.1234abcd"), *notes = path_of(f, "README");
	g_autofree char *l = NULL;
	struct domain_def **defs = NULL;
	g_auto(GStrv) errors = NULL;

	g_assert_cmpint(domain_store_save(f->store, a, NULL), ==, 0);
	g_assert_cmpint(domain_store_save(f->store, b, NULL), ==, 0);
	g_assert_true(g_file_set_contents(broken, "<domain type='kvm'><name>broken", -1, NULL));
	g_assert_true(g_file_set_contents(other, DEF_XML("not-other", 512), -1, NULL));
	g_assert_true(g_file_set_contents(debris, "<domain", -1, NULL)); /* a crash mid-save */
	g_assert_true(g_file_set_contents(notes, "not a definition", -1, NULL));

	g_assert_cmpint(domain_store_load_all(f->store, &defs, &errors), ==, 2);
	g_assert_cmpstr(defs[0]->name, ==, "a-vm");
	g_assert_cmpstr(defs[1]->name, ==, "b-vm");
	g_assert_null(defs[2]);
	g_assert_cmpuint(g_strv_length(errors), ==, 2);
	g_assert_nonnull(strstr(errors[0], "broken.xml: malformed XML"));
	g_assert_nonnull(strstr(errors[1], "defines a VM called 'not-other'"));
	domain_def_array_free(defs);

	l = listing(f);
	g_assert_cmpstr(l, ==, "README a-vm.xml b-vm.xml broken.xml other.xml");
}

static void test_autostart_remove(struct fixture *f, gconstpointer data)
{
	_cleanup_(domain_def_freep) struct domain_def *def = parse(DEF_XML("web1", 512));
	g_autofree char *mark = path_of(f, "autostart/web1.xml"), *link = NULL, *l = NULL;

	g_assert_cmpint(domain_store_set_autostart(f->store, "web1", true), ==, -ENOENT);
	g_assert_cmpint(domain_store_save(f->store, def, NULL), ==, 0);
	g_assert_cmpint(domain_store_get_autostart(f->store, "web1"), ==, 0);
	g_assert_cmpint(domain_store_set_autostart(f->store, "web1", true), ==, 0);
	g_assert_cmpint(domain_store_set_autostart(f->store, "web1", true), ==, 0);
	g_assert_cmpint(domain_store_get_autostart(f->store, "web1"), ==, 1);
	link = g_file_read_link(mark, NULL);
	g_assert_cmpstr(link, ==, "../web1.xml");
	/* The mark resolves to the definition itself. */
	g_assert_true(g_file_test(mark, G_FILE_TEST_IS_REGULAR));

	g_assert_cmpint(domain_store_set_autostart(f->store, "web1", false), ==, 0);
	g_assert_cmpint(domain_store_set_autostart(f->store, "web1", false), ==, 0);
	g_assert_cmpint(domain_store_get_autostart(f->store, "web1"), ==, 0);

	g_assert_cmpint(domain_store_set_autostart(f->store, "web1", true), ==, 0);
	g_assert_cmpint(domain_store_remove(f->store, "web1"), ==, 0);
	g_assert_false(g_file_test(mark, G_FILE_TEST_IS_SYMLINK));
	g_assert_cmpint(domain_store_remove(f->store, "web1"), ==, -ENOENT);
	l = listing(f);
	g_assert_cmpstr(l, ==, "");
}

static void test_names(struct fixture *f, gconstpointer data)
{
	_cleanup_(domain_def_freep) struct domain_def *def = parse(DEF_XML("web1", 512));
	struct domain_def *none = NULL;
	g_autofree char *err = NULL;

	g_free(def->name);
	def->name = g_strdup("../escape");
	g_assert_cmpint(domain_store_save(f->store, def, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "contains '/'"));
	g_assert_cmpint(domain_store_load(f->store, "../etc/passwd", &none, NULL), ==, -EINVAL);
	g_assert_cmpint(domain_store_remove(f->store, "a/b"), ==, -EINVAL);
	g_assert_cmpint(domain_store_set_autostart(f->store, "", true), ==, -EINVAL);
	g_assert_cmpint(domain_store_get_autostart(f->store, ".x"), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/domain/store/" path, struct fixture, NULL, setup, fn, teardown)
	ADD("save-load", test_save_load);
	ADD("replace", test_replace);
	ADD("failed-save-keeps-old", test_failed_save_keeps_old);
	ADD("load-all", test_load_all);
	ADD("autostart-remove", test_autostart_remove);
	ADD("names", test_names);
	return g_test_run();
}
