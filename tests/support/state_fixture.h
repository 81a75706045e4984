/* state_fixture — a RocksDB state db in a test's own fresh directory under
 * $TMPDIR, with a cache budget, for the unit tests of what sits on it.
 *
 * Usage (cmocka setup and teardown):
 *   weir_test_db_t *db = calloc(1, sizeof *db);
 *   if (weir_test_db_open(db, "weir-kv")) ...   // db->db, db->budget
 *   weir_test_db_close(db);                     // closed, directory removed
 */
#ifndef WEIR_TESTS_SUPPORT_STATE_FIXTURE_H
#define WEIR_TESTS_SUPPORT_STATE_FIXTURE_H

#include "state/kv_store.h"
#include "state/state_db.h"
#include "support/tmpdir.h"

typedef struct weir_test_db {
  char dir[512]; /* the state.dir */
  char err[512];
  weir_state_db_t *db;
  weir_cache_budget_t budget; /* 1 MiB, nothing used */
} weir_test_db_t;

/* 0, or -1 when the directory or the db could not be made (err says why). */
static inline int weir_test_db_open(weir_test_db_t *t, const char *name) {
  if (!weir_test_tmpdir(t->dir, sizeof t->dir, name))
    return -1;
  t->db = weir_state_db_open(t->dir, "app", 16, NULL, t->err, sizeof t->err);
  atomic_init(&t->budget.used, 0);
  t->budget.max = 1 << 20;
  return t->db ? 0 : -1;
}

static inline void weir_test_db_close(weir_test_db_t *t) {
  weir_state_db_close(t->db);
  weir_rm_rf(t->dir);
}

#endif
