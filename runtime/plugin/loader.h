/* loader — finds, loads, checks and unloads operator plugins (.so files).
 *
 * Search order for a plugin reference REF (the INI's `plugin = REF`):
 *   1. REF itself when it is an absolute path or ends in ".so";
 *   2. <plugin.dir>/REF.so when plugin.dir is set;
 *   3. the built-in directories, found from the weir executable so a build
 *      tree and any install prefix work as they are: <exe dir>/plugins/REF.so
 *      (the build tree), <exe dir>/WEIR_PLUGIN_REL_DIR/REF.so (the install
 *      prefix's lib/weir/plugins, whatever --prefix was), then
 *      WEIR_PLUGIN_INSTALL_DIR/REF.so (the configured prefix, for callers
 *      with no executable of their own, such as the test driver), then
 *      <libweir's dir>/weir/plugins/REF.so when libweir runs inside another
 *      program (a packaged libweir finds its std wherever it was put).
 * The first file that exists is loaded with RTLD_NOW | RTLD_LOCAL; when none
 * exists the error names every path tried.
 *
 * The host never keeps a pointer into a plugin's structs of unknown size: the
 * descriptor, operator and parameter definitions are copied into host-sized
 * structs (at most struct_size bytes, the rest zero), so a plugin built
 * against an older minor reads as if its new fields were zero.
 */
#ifndef WEIR_PLUGIN_LOADER_H
#define WEIR_PLUGIN_LOADER_H

#include <stddef.h>
#include <weir/weir.h>

typedef struct weir_op_info {
  weir_operator_def_t def;  /* host-sized copy; def.params points at `params` */
  weir_param_def_t *params; /* host-sized copies, param_count entries */
  size_t param_count;
} weir_op_info_t;

typedef struct weir_plugin {
  char *ref;  /* as named in the INI, e.g. "std" or "examples/wordsplit" */
  char *path; /* the file actually loaded */
  void *handle;
  weir_plugin_desc_t desc; /* host-sized copy; desc.operators is NOT used */
  weir_op_info_t *ops;
  size_t op_count;
  int refcount;
  /* The file it came from, and that file's identity when it was loaded (a
   * reload compares them). `path` is a staged copy when `staged` is set;
   * closing the plugin deletes it. */
  char *source;
  unsigned long long source_dev, source_ino, source_size;
  long long source_mtime_ns;
  int staged;
} weir_plugin_t;

typedef struct weir_plugin_search {
  const char *plugin_dir; /* [weir] plugin.dir, may be NULL */
  const char *exe_dir;    /* the weir executable's directory, may be NULL */
  /* When set, each plugin is copied to a unique read-only file here and
   * loaded from the copy: dlopen returns the already-loaded object for a
   * path it has seen, so a reload must never open the same path twice. */
  const char *stage_dir;
} weir_plugin_search_t;

/* Resolve REF to a path by the search order. Returns 0 and writes the path,
 * or -1 with an error line naming every path tried. */
int weir_plugin_resolve(const char *ref, const weir_plugin_search_t *search, char *path,
                        size_t path_size, char *errstr, size_t errstr_size);

/* Load and check one file. On failure returns NULL, the file is unloaded,
 * and errstr holds one line: what failed, the path, and what to do. The
 * checks: a shared object; exports weir_plugin_entry; entry returns non-NULL;
 * abi_major == WEIR_ABI_MAJOR (both named); abi_minor <= WEIR_ABI_MINOR;
 * descriptor struct_size, name, operators present; each operator has a type,
 * init and process; no operator type twice; parameter tables well formed. */
weir_plugin_t *weir_plugin_load_file(const char *path, const char *ref, char *errstr,
                                     size_t errstr_size);

/* A plugin linked into the program (libweir's embedders): the same checks
 * as a file, from its entry function; `path` reads "(linked in)", no
 * handle. NULL with errstr on a failed check. */
weir_plugin_t *weir_plugin_from_entry(weir_plugin_entry_fn entry, const char *ref, char *errstr,
                                      size_t errstr_size);

/* Linked-in plugins by name (plugin/static_plugins.c): registered once,
 * found by weir_plugin_open before any file. */
int weir_static_plugin_register(weir_plugin_entry_fn entry, char *errstr, size_t errstr_size);
weir_plugin_entry_fn weir_static_plugin_find(const char *name);

/* resolve + load (a registered linked-in plugin first). */
weir_plugin_t *weir_plugin_open(const char *ref, const weir_plugin_search_t *search, char *errstr,
                                size_t errstr_size);

const weir_op_info_t *weir_plugin_find_op(const weir_plugin_t *p, const char *type);

/* Unload (dlclose) and free. */
void weir_plugin_close(weir_plugin_t *p);

/* `weir plugin info`: the descriptor, every operator, every parameter with
 * type, default, bounds and doc, as readable text. */
void weir_plugin_print_info(const weir_plugin_t *p, FILE *out);
/* One parameter table as text (shared with `weir describe --params`). */
void weir_params_print(const weir_param_def_t *params, size_t count, const char *indent, FILE *out);

/* The directory holding the running executable (from /proc/self/exe). */
int weir_exe_dir(char *out, size_t size);

#endif
