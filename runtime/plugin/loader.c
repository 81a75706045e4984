#include "plugin/loader.h"
#include "util/diag.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The smallest struct each 1.0 plugin may hand over: the full 1.0 layout.
 * Written as offsetof(last 1.0 field) + its size so the numbers stay the 1.0
 * ones when later minors append fields to the host's structs.
 */
#define DESC_SIZE_1_0 (offsetof(weir_plugin_desc_t, serdes) + sizeof(void *))
#define OP_SIZE_1_0 (offsetof(weir_operator_def_t, load) + sizeof(void *))
#define PARAM_SIZE_1_0 (offsetof(weir_param_def_t, doc) + sizeof(char *))

/* A table longer than this is a missing WEIR_PARAM_END or NULL terminator,
 * not a real plugin; stop before reading far past the plugin's data. */
#define MAX_ENTRIES 1000

/* ---------------------------------------------------------------- errors */

/* ---------------------------------------------------------------- search */

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

typedef struct candidates {
  char paths[6][PATH_MAX];
  size_t count;
} candidates_t;

static void add_candidate(candidates_t *c, const char *dir, const char *mid, const char *ref) {
  const char *ext = ends_with(ref, ".so") ? "" : ".so";
  if (!dir || !*dir)
    return;
  snprintf(c->paths[c->count++], PATH_MAX, "%s%s/%s%s", dir, mid, ref, ext);
}

/* The directory of libweir when weir runs inside another program: its own
 * plugins sit beside it (LIBDIR/weir/plugins), wherever it was installed.
 * NULL in the weir executable, which finds them from its own directory. */
static const char *library_dir(char *buf, size_t size) {
  Dl_info info;
  char lib[PATH_MAX], exe[PATH_MAX];
  if (!dladdr((void *)(uintptr_t)&weir_plugin_resolve, &info) || !info.dli_fname ||
      !realpath(info.dli_fname, lib) || !realpath("/proc/self/exe", exe) || strcmp(lib, exe) == 0)
    return NULL;
  char *slash = strrchr(lib, '/');
  if (!slash)
    return NULL;
  *slash = '\0';
  snprintf(buf, size, "%s", lib);
  return buf;
}

/* The search order of loader.h. An absolute REF names exactly one file; a
 * relative "x.so" is tried as given (relative to the working directory)
 * before the plugin directories. */
static void list_candidates(const char *ref, const weir_plugin_search_t *search, candidates_t *c) {
  c->count = 0;
  if (ref[0] == '/' || ends_with(ref, ".so"))
    snprintf(c->paths[c->count++], PATH_MAX, "%s", ref);
  if (ref[0] == '/')
    return;
  if (search) {
    add_candidate(c, search->plugin_dir, "", ref);
    add_candidate(c, search->exe_dir, "/plugins", ref);
    /* Installed: bin/weir finds lib/weir/plugins under its own prefix, not
     * under the prefix configured at build time (cmake --install --prefix). */
    add_candidate(c, search->exe_dir, "/" WEIR_PLUGIN_REL_DIR, ref);
  }
  char lib[PATH_MAX];
  add_candidate(c, library_dir(lib, sizeof lib), "/weir/plugins", ref);
  add_candidate(c, WEIR_PLUGIN_INSTALL_DIR, "", ref);
}

int weir_plugin_resolve(const char *ref, const weir_plugin_search_t *search, char *path,
                        size_t path_size, char *errstr, size_t errstr_size) {
  candidates_t c;
  char tried[6 * PATH_MAX + 16] = "";
  if (!ref || !*ref) {
    weir_errstr_set(errstr, errstr_size, "empty plugin reference: set `plugin = NAME` (e.g. std)");
    return -1;
  }
  list_candidates(ref, search, &c);
  for (size_t i = 0; i < c.count; i++) {
    if (is_file(c.paths[i])) {
      if ((size_t)snprintf(path, path_size, "%s", c.paths[i]) >= path_size) {
        weir_errstr_set(errstr, errstr_size, "plugin path %s is too long", c.paths[i]);
        return -1;
      }
      return 0;
    }
    size_t n = strlen(tried);
    snprintf(tried + n, sizeof tried - n, "%s%s", i ? ", " : "", c.paths[i]);
  }
  weir_errstr_set(errstr, errstr_size,
                  "plugin '%s' not found (tried %s): build it, or set plugin.dir in [weir] to the "
                  "directory that holds it",
                  ref, tried);
  return -1;
}

/* ---------------------------------------------------------------- checks */

typedef struct load_ctx {
  const char *path;
  char *errstr;
  size_t errstr_size;
} load_ctx_t;

static const char *str_or(const char *s, const char *dflt) {
  return s ? s : dflt;
}

/* Copies `size` bytes of a plugin struct into a host-sized one: the part the
 * plugin knows, the rest zero, as the SDK's compatibility rules say. */
static void copy_sized(void *dst, size_t dst_size, const void *src, size_t size) {
  size_t n = size < dst_size ? size : dst_size;
  memset(dst, 0, dst_size);
  memcpy(dst, src, n);
}

/* struct_size must hold the whole 1.0 layout, and can be no larger than the
 * host's: a plugin's minor is never above the host's (checked before). */
static bool size_ok(uint32_t size, size_t min, size_t host) {
  return size >= min && size <= host;
}

/* "48", or "48 to 56" once a later minor has grown the host's struct. */
static const char *size_range(char *buf, size_t size, size_t min, size_t host) {
  if (min == host)
    snprintf(buf, size, "%zu", min);
  else
    snprintf(buf, size, "%zu to %zu", min, host);
  return buf;
}

static int check_abi(load_ctx_t *lc, const weir_plugin_desc_t *raw) {
  if (raw->abi_major != WEIR_ABI_MAJOR) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s was built for weir ABI %u.%u, this host speaks %d.%d: rebuild it "
                    "against the %d.x SDK",
                    lc->path, raw->abi_major, raw->abi_minor, WEIR_ABI_MAJOR, WEIR_ABI_MINOR,
                    WEIR_ABI_MAJOR);
    return -1;
  }
  if (raw->abi_minor > WEIR_ABI_MINOR) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s was built for weir ABI %u.%u, newer than this host's %d.%d: upgrade "
                    "weir, or rebuild the plugin against the %d.%d SDK",
                    lc->path, raw->abi_major, raw->abi_minor, WEIR_ABI_MAJOR, WEIR_ABI_MINOR,
                    WEIR_ABI_MAJOR, WEIR_ABI_MINOR);
    return -1;
  }
  return 0;
}

static int check_desc(load_ctx_t *lc, const weir_plugin_desc_t *raw, weir_plugin_desc_t *desc) {
  char range[48];
  if (!size_ok(raw->struct_size, DESC_SIZE_1_0, sizeof *desc)) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s has a malformed descriptor: struct_size %u, expected %s: build the "
                    "descriptor with WEIR_PLUGIN(...)",
                    lc->path, raw->struct_size,
                    size_range(range, sizeof range, DESC_SIZE_1_0, sizeof *desc));
    return -1;
  }
  copy_sized(desc, sizeof *desc, raw, raw->struct_size);
  if (!desc->name || !*desc->name) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s has a malformed descriptor: no name: give WEIR_PLUGIN(...) a name",
                    lc->path);
    return -1;
  }
  if (!desc->operators) {
    weir_errstr_set(
        lc->errstr, lc->errstr_size,
        "plugin %s (%s) has a malformed descriptor: the operators list is NULL: list its "
        "operators in WEIR_PLUGIN(...)",
        lc->path, desc->name);
    return -1;
  }
  return 0;
}

static int count_ops(load_ctx_t *lc, const weir_plugin_desc_t *desc, size_t *count) {
  size_t n = 0;
  while (n < MAX_ENTRIES && desc->operators[n])
    n++;
  if (n == MAX_ENTRIES) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s (%s): the operators list has no NULL end within %d entries: end it "
                    "with NULL (WEIR_PLUGIN(...) does)",
                    lc->path, desc->name, MAX_ENTRIES);
    return -1;
  }
  if (n == 0) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s (%s) declares no operators: list them in WEIR_PLUGIN(...)", lc->path,
                    desc->name);
    return -1;
  }
  *count = n;
  return 0;
}

static int check_op_def(load_ctx_t *lc, const weir_plugin_desc_t *desc, size_t index,
                        const weir_operator_def_t *raw, weir_operator_def_t *def) {
  const char *missing = NULL;
  char range[48];
  if (!size_ok(raw->struct_size, OP_SIZE_1_0, sizeof *def)) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s (%s): operator #%zu has struct_size %u, expected %s: set it to "
                    "sizeof(weir_operator_def_t)",
                    lc->path, desc->name, index + 1, raw->struct_size,
                    size_range(range, sizeof range, OP_SIZE_1_0, sizeof *def));
    return -1;
  }
  copy_sized(def, sizeof *def, raw, raw->struct_size);
  if (!def->type || !*def->type) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s (%s): operator #%zu has no type: set .type to the name the INI's "
                    "`type =` uses",
                    lc->path, desc->name, index + 1);
    return -1;
  }
  if (!def->init)
    missing = "init";
  else if (def->flags & WEIR_OP_TIMESTAMP_EXTRACTOR ? !def->extract_timestamp : !def->process)
    missing = def->flags & WEIR_OP_TIMESTAMP_EXTRACTOR ? "extract_timestamp" : "process";
  if (missing) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s (%s): operator '%s' has no %s callback: it is required, set .%s",
                    lc->path, desc->name, def->type, missing, missing);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- params */

static const weir_param_def_t *param_at(const weir_param_def_t *table, uint32_t stride, size_t i) {
  return (const weir_param_def_t *)(const void *)((const char *)table + (size_t)stride * i);
}

static int param_fail(load_ctx_t *lc, const char *plugin, const char *op, const char *what,
                      const char *todo) {
  weir_errstr_set(lc->errstr, lc->errstr_size, "plugin %s (%s): operator '%s': %s: %s", lc->path,
                  plugin, op, what, todo);
  return -1;
}

/* Entries up to the one whose name is NULL. The stride is the first
 * element's struct_size, as the plugin's array was laid out with it. */
static int count_params(load_ctx_t *lc, const char *plugin, const weir_operator_def_t *def,
                        size_t *count) {
  char what[160], range[48];
  uint32_t stride = def->params[0].struct_size;
  size_t n = 0;
  if (!size_ok(stride, PARAM_SIZE_1_0, sizeof(weir_param_def_t))) {
    snprintf(what, sizeof what, "the parameter table has struct_size %u, expected %s", stride,
             size_range(range, sizeof range, PARAM_SIZE_1_0, sizeof(weir_param_def_t)));
    return param_fail(lc, plugin, def->type, what,
                      "build its entries with the WEIR_PARAM_* macros");
  }
  while (n < MAX_ENTRIES && param_at(def->params, stride, n)->name)
    n++;
  if (n == MAX_ENTRIES)
    return param_fail(lc, plugin, def->type, "the parameter table has no end within 1000 entries",
                      "end it with WEIR_PARAM_END");
  *count = n;
  return 0;
}

static bool valid_type(weir_param_type_t t) {
  return t >= WEIR_PARAM_STRING && t <= WEIR_PARAM_REGEX;
}

static int check_param(load_ctx_t *lc, const char *plugin, const char *op,
                       const weir_param_def_t *p, uint32_t stride, const weir_param_def_t *prev,
                       size_t prev_count) {
  char what[200];
  if (p->struct_size != stride) {
    snprintf(what, sizeof what, "parameter '%s' has struct_size %u, the table's is %u", p->name,
             p->struct_size, stride);
    return param_fail(lc, plugin, op, what, "build every entry with the WEIR_PARAM_* macros");
  }
  if (!*p->name)
    return param_fail(lc, plugin, op, "a parameter has an empty name", "name it");
  if (!valid_type(p->type)) {
    snprintf(what, sizeof what, "parameter '%s' has an unknown type %d", p->name, (int)p->type);
    return param_fail(lc, plugin, op, what, "use a WEIR_PARAM_* type (STRING to REGEX)");
  }
  if (p->type == WEIR_PARAM_ENUM && (!p->choices || !*p->choices)) {
    snprintf(what, sizeof what, "enum parameter '%s' has no choices", p->name);
    return param_fail(lc, plugin, op, what, "list them as \"a|b|c\"");
  }
  for (size_t i = 0; i < prev_count; i++) {
    if (strcmp(prev[i].name, p->name) == 0) {
      snprintf(what, sizeof what, "parameter '%s' is declared twice", p->name);
      return param_fail(lc, plugin, op, what, "remove or rename one");
    }
  }
  return 0;
}

/* Copies the table into host-sized entries plus one zeroed end entry, so
 * def.params stays a WEIR_PARAM_END-terminated array for host code. */
static int copy_params(load_ctx_t *lc, const char *plugin, weir_op_info_t *op) {
  const weir_param_def_t *raw = op->def.params;
  size_t n = 0;
  if (raw && count_params(lc, plugin, &op->def, &n) < 0)
    return -1;
  op->params = calloc(n + 1, sizeof *op->params);
  if (!op->params) {
    weir_errstr_set(lc->errstr, lc->errstr_size, "out of memory loading plugin %s", lc->path);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const weir_param_def_t *p = param_at(raw, raw[0].struct_size, i);
    /* Only the first field is read in place; the checks read the copy. */
    copy_sized(&op->params[i], sizeof op->params[i], p, raw[0].struct_size);
    if (check_param(lc, plugin, op->def.type, &op->params[i], raw[0].struct_size, op->params, i) <
        0)
      return -1;
  }
  op->params[n].struct_size = (uint32_t)sizeof op->params[n];
  op->param_count = n;
  op->def.params = op->params;
  return 0;
}

/* ---------------------------------------------------------------- load */

static bool find_type(const weir_op_info_t *ops, size_t n, const char *type) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(ops[i].def.type, type) == 0)
      return true;
  return false;
}

static void free_plugin(weir_plugin_t *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->op_count; i++)
    free(p->ops[i].params);
  free(p->ops);
  free(p->ref);
  free(p->path);
  free(p);
}

static int load_ops(load_ctx_t *lc, const weir_plugin_desc_t *raw_desc, weir_plugin_t *p) {
  size_t n;
  if (count_ops(lc, &p->desc, &n) < 0)
    return -1;
  p->ops = calloc(n, sizeof *p->ops);
  if (!p->ops) {
    weir_errstr_set(lc->errstr, lc->errstr_size, "out of memory loading plugin %s", lc->path);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    weir_op_info_t *op = &p->ops[i];
    p->op_count = i + 1; /* free_plugin() frees op->params from here on */
    if (check_op_def(lc, &p->desc, i, raw_desc->operators[i], &op->def) < 0)
      return -1;
    if (find_type(p->ops, i, op->def.type)) {
      weir_errstr_set(lc->errstr, lc->errstr_size,
                      "plugin %s (%s) declares operator type '%s' twice: rename one", lc->path,
                      p->desc.name, op->def.type);
      return -1;
    }
    if (copy_params(lc, p->desc.name, op) < 0)
      return -1;
  }
  return 0;
}

static weir_plugin_entry_fn find_entry(void *handle) {
  weir_plugin_entry_fn fn = NULL;
  void *sym = dlsym(handle, WEIR_PLUGIN_ENTRY_SYMBOL);
  /* POSIX guarantees a dlsym result converts to a function pointer. */
  memcpy(&fn, &sym, sizeof fn);
  return fn;
}

static void *open_so(load_ctx_t *lc) {
  char local[PATH_MAX];
  void *handle;
  if (!is_file(lc->path)) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin file %s does not exist (or is not a regular file): check the path",
                    lc->path);
    return NULL;
  }
  /* dlopen searches the library path for a name without a '/': the file
   * the user named is the one in the working directory. */
  snprintf(local, sizeof local, "%s%s", strchr(lc->path, '/') ? "" : "./", lc->path);
  dlerror();
  handle = dlopen(local, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    weir_errstr_set(
        lc->errstr, lc->errstr_size,
        "cannot load plugin %s, it is not a loadable shared object (%s): rebuild it with "
        "cc -shared -fPIC against the weir SDK",
        lc->path, str_or(dlerror(), "unknown dlopen error"));
  return handle;
}

static const weir_plugin_desc_t *call_entry(load_ctx_t *lc, void *handle) {
  const weir_plugin_desc_t *raw;
  weir_plugin_entry_fn entry = find_entry(handle);
  if (!entry) {
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s exports no %s symbol: is it built with WEIR_PLUGIN(...)?", lc->path,
                    WEIR_PLUGIN_ENTRY_SYMBOL);
    return NULL;
  }
  raw = entry();
  if (!raw)
    weir_errstr_set(lc->errstr, lc->errstr_size,
                    "plugin %s: %s() returned NULL: it must return its static descriptor (use "
                    "WEIR_PLUGIN(...))",
                    lc->path, WEIR_PLUGIN_ENTRY_SYMBOL);
  return raw;
}

static int check_plugin(load_ctx_t *lc, const weir_plugin_desc_t *raw, weir_plugin_t *p) {
  if (check_abi(lc, raw) < 0 || check_desc(lc, raw, &p->desc) < 0)
    return -1;
  if (load_ops(lc, raw, p) < 0)
    return -1;
  /* Everything the host uses is in p->ops now; the plugin's own list is not
   * a host-sized struct, so nobody may walk it. */
  p->desc.operators = NULL;
  return 0;
}

weir_plugin_t *weir_plugin_load_file(const char *path, const char *ref, char *errstr,
                                     size_t errstr_size) {
  load_ctx_t lc = {path ? path : "(null)", errstr, errstr_size};
  const weir_plugin_desc_t *raw;
  weir_plugin_t *p;
  void *handle = path ? open_so(&lc) : NULL;
  if (!path)
    weir_errstr_set(errstr, errstr_size, "no plugin path given");
  if (!handle)
    return NULL;
  raw = call_entry(&lc, handle);
  p = raw ? calloc(1, sizeof *p) : NULL;
  if (raw && !p)
    weir_errstr_set(errstr, errstr_size, "out of memory loading plugin %s", path);
  if (!p || check_plugin(&lc, raw, p) < 0)
    goto fail;
  p->path = strdup(path);
  p->ref = strdup(ref ? ref : path);
  if (!p->path || !p->ref) {
    weir_errstr_set(errstr, errstr_size, "out of memory loading plugin %s", path);
    goto fail;
  }
  p->handle = handle;
  p->refcount = 1;
  return p;
fail:
  free_plugin(p);
  dlclose(handle);
  return NULL;
}

weir_plugin_t *weir_plugin_from_entry(weir_plugin_entry_fn entry, const char *ref, char *errstr,
                                      size_t errstr_size) {
  load_ctx_t lc = {"(linked in)", errstr, errstr_size};
  const weir_plugin_desc_t *raw = entry ? entry() : NULL;
  weir_plugin_t *p = raw ? calloc(1, sizeof *p) : NULL;
  if (!raw) {
    weir_errstr_set(errstr, errstr_size,
                    "a linked-in plugin's entry function returned NULL (or none was given): "
                    "make it with WEIR_STATIC_PLUGIN(...)");
    return NULL;
  }
  if (!p || check_plugin(&lc, raw, p) < 0)
    goto fail;
  p->path = strdup("(linked in)");
  p->ref = strdup(ref ? ref : p->desc.name);
  if (!p->path || !p->ref)
    goto fail;
  p->refcount = 1;
  return p;
fail:
  if (!p)
    weir_errstr_set(errstr, errstr_size, "out of memory loading a linked-in plugin");
  free_plugin(p);
  return NULL;
}

/* Copy `path` to a new read-only file in `dir` (varnish's trick: a unique
 * path per load). */
static int stage_copy(const char *path, const char *dir, char *out, size_t out_size, char *errstr,
                      size_t errstr_size) {
  static atomic_uint counter;
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  snprintf(out, out_size, "%s/%s.%d.%u", dir, base, (int)getpid(), atomic_fetch_add(&counter, 1));
  int in = open(path, O_RDONLY | O_CLOEXEC);
  int fd = in < 0 ? -1 : open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  char buf[65536];
  ssize_t n = 0;
  while (fd >= 0 && (n = read(in, buf, sizeof buf)) > 0)
    if (write(fd, buf, (size_t)n) != n) {
      n = -1;
      break;
    }
  int ok = in >= 0 && fd >= 0 && n == 0 && fsync(fd) == 0;
  if (fd >= 0 && close(fd) != 0)
    ok = 0;
  if (in >= 0)
    close(in);
  if (!ok) {
    snprintf(errstr, errstr_size, "cannot stage plugin %s as %s: %s", path, out, strerror(errno));
    unlink(out);
    return -1;
  }
  return 0;
}

static void note_source(weir_plugin_t *p, const char *path, const struct stat *st) {
  p->source = strdup(path);
  p->source_dev = (unsigned long long)st->st_dev;
  p->source_ino = (unsigned long long)st->st_ino;
  p->source_size = (unsigned long long)st->st_size;
  p->source_mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

weir_plugin_t *weir_plugin_open(const char *ref, const weir_plugin_search_t *search, char *errstr,
                                size_t errstr_size) {
  char path[PATH_MAX], staged[PATH_MAX];
  struct stat st;
  weir_plugin_entry_fn linked = weir_static_plugin_find(ref);
  if (linked)
    return weir_plugin_from_entry(linked, ref, errstr, errstr_size);
  if (weir_plugin_resolve(ref, search, path, sizeof path, errstr, errstr_size) < 0)
    return NULL;
  if (stat(path, &st) != 0) {
    snprintf(errstr, errstr_size, "plugin %s: %s", path, strerror(errno));
    return NULL;
  }
  if (search->stage_dir &&
      stage_copy(path, search->stage_dir, staged, sizeof staged, errstr, errstr_size))
    return NULL;
  weir_plugin_t *p =
      weir_plugin_load_file(search->stage_dir ? staged : path, ref, errstr, errstr_size);
  if (!p) {
    if (search->stage_dir)
      unlink(staged);
    return NULL;
  }
  p->staged = search->stage_dir != NULL;
  note_source(p, path, &st);
  return p;
}

const weir_op_info_t *weir_plugin_find_op(const weir_plugin_t *p, const char *type) {
  if (!p || !type)
    return NULL;
  for (size_t i = 0; i < p->op_count; i++)
    if (p->ops[i].def.type && strcmp(p->ops[i].def.type, type) == 0)
      return &p->ops[i];
  return NULL;
}

void weir_plugin_close(weir_plugin_t *p) {
  if (!p)
    return;
  if (p->handle)
    dlclose(p->handle);
  if (p->staged && p->path)
    unlink(p->path);
  free(p->source);
  free_plugin(p);
}

/* ---------------------------------------------------------------- printing */

static const char *type_name(weir_param_type_t t) {
  switch (t) {
  case WEIR_PARAM_STRING: return "string";
  case WEIR_PARAM_INT: return "int";
  case WEIR_PARAM_DOUBLE: return "double";
  case WEIR_PARAM_BOOL: return "bool";
  case WEIR_PARAM_ENUM: return "enum";
  case WEIR_PARAM_REGEX: return "regex";
  }
  return "?";
}

static void format_type(const weir_param_def_t *p, char *buf, size_t size) {
  if (p->type == WEIR_PARAM_ENUM)
    snprintf(buf, size, "enum(%s)", str_or(p->choices, ""));
  else
    snprintf(buf, size, "%s", type_name(p->type));
}

static void format_bound(const weir_param_def_t *p, double v, char *buf, size_t size) {
  if (p->type == WEIR_PARAM_INT)
    snprintf(buf, size, "%.0f", v);
  else
    snprintf(buf, size, "%g", v);
}

static void format_bounds(const weir_param_def_t *p, char *buf, size_t size) {
  char lo[40], hi[40];
  bool numeric = p->type == WEIR_PARAM_INT || p->type == WEIR_PARAM_DOUBLE;
  if (!numeric || p->min > p->max) {
    snprintf(buf, size, "-");
    return;
  }
  format_bound(p, p->min, lo, sizeof lo);
  format_bound(p, p->max, hi, sizeof hi);
  snprintf(buf, size, "[%s, %s]", lo, hi);
}

static void format_flags(const weir_param_def_t *p, char *buf, size_t size) {
  bool req = p->flags & WEIR_PARAM_REQUIRED, multi = p->flags & WEIR_PARAM_MULTI;
  snprintf(buf, size, "%s%s%s", req ? "required" : "", req && multi ? "," : "",
           multi ? "multi" : (req ? "" : "-"));
}

typedef struct param_row {
  char type[256], dflt[256], bounds[96], flags[32];
} param_row_t;

static void format_row(const weir_param_def_t *p, param_row_t *r) {
  format_type(p, r->type, sizeof r->type);
  const char *d = p->default_value;
  size_t n = d ? strlen(d) : 0;
  /* Quote a default a reader could not see: empty, or with edge spaces. */
  if (d && (n == 0 || d[0] == ' ' || d[n - 1] == ' '))
    snprintf(r->dflt, sizeof r->dflt, "\"%s\"", d);
  else
    snprintf(r->dflt, sizeof r->dflt, "%s", d ? d : "-");
  format_bounds(p, r->bounds, sizeof r->bounds);
  format_flags(p, r->flags, sizeof r->flags);
}

static int max_int(int a, size_t b) {
  return (size_t)a > b ? a : (int)b;
}

void weir_params_print(const weir_param_def_t *params, size_t count, const char *indent,
                       FILE *out) {
  int w[5] = {4, 4, 7, 6, 5}; /* the header words' widths */
  param_row_t r;
  indent = str_or(indent, "");
  if (!params || count == 0) {
    fprintf(out, "%s(no parameters)\n", indent);
    return;
  }
  for (size_t i = 0; i < count; i++) {
    format_row(&params[i], &r);
    w[0] = max_int(w[0], strlen(str_or(params[i].name, "")));
    w[1] = max_int(w[1], strlen(r.type));
    w[2] = max_int(w[2], strlen(r.dflt));
    w[3] = max_int(w[3], strlen(r.bounds));
    w[4] = max_int(w[4], strlen(r.flags));
  }
  fprintf(out, "%s%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", indent, w[0], "NAME", w[1], "TYPE", w[2],
          "DEFAULT", w[3], "BOUNDS", w[4], "FLAGS", "DOC");
  for (size_t i = 0; i < count; i++) {
    format_row(&params[i], &r);
    fprintf(out, "%s%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", indent, w[0], str_or(params[i].name, ""),
            w[1], r.type, w[2], r.dflt, w[3], r.bounds, w[4], r.flags, str_or(params[i].doc, ""));
  }
}

void weir_plugin_print_info(const weir_plugin_t *p, FILE *out) {
  fprintf(out, "plugin   %s\n", str_or(p->desc.name, "?"));
  fprintf(out, "version  %s\n", str_or(p->desc.version, "-"));
  fprintf(out, "ABI      %u.%u (host %d.%d)\n", p->desc.abi_major, p->desc.abi_minor,
          WEIR_ABI_MAJOR, WEIR_ABI_MINOR);
  fprintf(out, "path     %s\n", str_or(p->path, "-"));
  fprintf(out, "doc      %s\n", str_or(p->desc.doc, "-"));
  for (size_t i = 0; i < p->op_count; i++) {
    const weir_op_info_t *op = &p->ops[i];
    fprintf(out, "\noperator %s%s\n", op->def.type,
            op->def.flags & WEIR_OP_ROUTES_BY_NAME ? " (routes to children by name)" : "");
    fprintf(out, "  %s\n", str_or(op->def.doc, "(no doc)"));
    weir_params_print(op->params, op->param_count, "  ", out);
  }
}

int weir_exe_dir(char *out, size_t size) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  char *slash;
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  slash = strrchr(buf, '/');
  if (!slash)
    return -1;
  if (slash == buf)
    slash[1] = '\0'; /* the executable sits in / */
  else
    *slash = '\0';
  if ((size_t)snprintf(out, size, "%s", buf) >= size)
    return -1;
  return 0;
}
