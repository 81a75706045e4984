/* join_value — how the std join builds its output value from the two
 * sides' values (`value =`): merge (two JSON objects in one, the right's
 * member winning a name both have), nest ({"left":L,"right":R}, names set
 * by nest.left / nest.right), one side alone, or `sides`: an empty value
 * and each present side's bytes in a header (WEIR_JOIN_LEFT_HEADER /
 * WEIR_JOIN_RIGHT_HEADER, read by weir_join_side()), for an operator of the
 * user's own to build any value from, binary-safe. An absent side (an
 * unmatched record of a left or outer join) is JSON null, and merge takes
 * the other object as it is. Internal to std.so. */
#ifndef WEIR_STD_JOIN_VALUE_H
#define WEIR_STD_JOIN_VALUE_H

#include <stddef.h>
#include <weir/weir.h>

#include "std_util.h"

enum std_join_value_mode { STD_JV_MERGE, STD_JV_NEST, STD_JV_LEFT, STD_JV_RIGHT, STD_JV_SIDES };

typedef struct std_jv_member std_jv_member_t;

typedef struct std_join_value {
  enum std_join_value_mode mode;
  const char *names[2];     /* nest: the members for left and right (host-owned) */
  std_buf_t out;            /* the rendered value, reused from record to record */
  std_jv_member_t *members; /* merge: the members of both objects */
  size_t member_cap;
} std_join_value_t;

/* Read `value`, `nest.left`, `nest.right`. */
void std_join_value_init(weir_ctx_t *ctx, std_join_value_t *jv);
void std_join_value_free(std_join_value_t *jv);

/* A side's value: data == NULL when the side is absent. */
typedef struct std_side {
  const void *data;
  size_t len;
} std_side_t;

/* Render the joined value of `left` and `right` into jv->out: *out (owned by
 * jv, valid until the next call) and *out_len. WEIR_OK; WEIR_EINVAL with a
 * warning when merge meets a value that is no JSON object; WEIR_ENOMEM. */
int std_join_value_render(weir_ctx_t *ctx, std_join_value_t *jv, std_side_t left, std_side_t right,
                          const void **out, size_t *out_len);

#endif
