/* static_plugins — operators linked into an embedding program, by plugin
 * name. Registered before a topology is built; never unregistered (the
 * code lives as long as the program). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "plugin/loader.h"

#define MAX_LINKED 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char name[128];
  weir_plugin_entry_fn entry;
} linked[MAX_LINKED];
static size_t linked_count;

static weir_plugin_entry_fn find_locked(const char *name) {
  for (size_t i = 0; i < linked_count; i++)
    if (strcmp(linked[i].name, name) == 0)
      return linked[i].entry;
  return NULL;
}

int weir_static_plugin_register(weir_plugin_entry_fn entry, char *errstr, size_t errstr_size) {
  /* The same checks as a .so, once, so a bad table fails here, not at the
   * first topology that names it. */
  weir_plugin_t *p = weir_plugin_from_entry(entry, NULL, errstr, errstr_size);
  if (!p)
    return -1;
  int rc = 0;
  pthread_mutex_lock(&mu);
  if (find_locked(p->desc.name)) {
    snprintf(errstr, errstr_size,
             "a linked-in plugin named '%s' is registered already; give each a distinct name",
             p->desc.name);
    rc = -1;
  } else if (linked_count == MAX_LINKED || strlen(p->desc.name) >= sizeof linked[0].name) {
    snprintf(errstr, errstr_size,
             "cannot register linked-in plugin '%s': at most %d, names "
             "under %zu bytes",
             p->desc.name, MAX_LINKED, sizeof linked[0].name);
    rc = -1;
  } else {
    snprintf(linked[linked_count].name, sizeof linked[0].name, "%s", p->desc.name);
    linked[linked_count++].entry = entry;
  }
  pthread_mutex_unlock(&mu);
  weir_plugin_close(p);
  return rc;
}

weir_plugin_entry_fn weir_static_plugin_find(const char *name) {
  pthread_mutex_lock(&mu);
  weir_plugin_entry_fn fn = name ? find_locked(name) : NULL;
  pthread_mutex_unlock(&mu);
  return fn;
}
