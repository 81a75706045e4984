/* The oracle of the window differential test (test_window_kstreams.c): two
 * windowed outputs, as multisets of "key@start/end = count" lines, equal or
 * not, and what differs. Tested on made-up outputs in
 * tests/unit/test_window_diff.c: a comparator that cannot fail would let
 * the differential test pass on anything. */
#ifndef WEIR_TESTS_WINDOW_DIFF_H
#define WEIR_TESTS_WINDOW_DIFF_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One output's final results, one line a record. */
typedef struct wdiff_set {
  char **lines;
  size_t n, cap;
} wdiff_set_t;

/* A value as text: a decimal count as it is (Kafka Streams' String serde);
 * 8 bytes that are not all digits as a big-endian int64 (Kafka's
 * LongSerializer, what weir's count operators forward); NULL as a
 * tombstone; anything else in hex, so that it shows in the diff. A count
 * of 8 decimal digits and an int64 of 8 digit bytes (>= 0x3030303030303030)
 * would read alike, but neither can come out of a test of thousands of
 * records. */
__attribute__((unused)) static void wdiff_value(char *buf, size_t size, const void *v, size_t len) {
  const unsigned char *b = v;
  size_t digits = 0;
  while (b && digits < len && b[digits] >= '0' && b[digits] <= '9')
    digits++;
  if (!v) {
    snprintf(buf, size, "<tombstone>");
  } else if (len > 0 && len <= 19 && digits == len) {
    snprintf(buf, size, "%.*s", (int)len, (const char *)v);
  } else if (len == 8) {
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
      n = n << 8 | b[i];
    snprintf(buf, size, "%lld", (long long)n);
  } else {
    size_t w = (size_t)snprintf(buf, size, "<%zu bytes:", len);
    for (size_t i = 0; i < len && w + 4 < size; i++)
      w += (size_t)snprintf(buf + w, size - w, " %02x", b[i]);
    snprintf(buf + (w < size ? w : size - 1), size - (w < size ? w : size - 1), ">");
  }
}

/* A key as text when it is printable (window.key.format = text), else in
 * hex (a binary windowed key never equals a text one: it shows). */
__attribute__((unused)) static void wdiff_key(char *buf, size_t size, const void *k, size_t len) {
  const unsigned char *b = k;
  int printable = k != NULL;
  for (size_t i = 0; printable && i < len; i++)
    printable = b[i] >= 0x20 && b[i] < 0x7f;
  if (printable) {
    snprintf(buf, size, "%.*s", (int)len, (const char *)k);
    return;
  }
  size_t w = (size_t)snprintf(buf, size, "<key %zu bytes:", len);
  for (size_t i = 0; k && i < len && w + 4 < size; i++)
    w += (size_t)snprintf(buf + w, size - w, " %02x", b[i]);
  snprintf(buf + (w < size ? w : size - 1), size - (w < size ? w : size - 1), ">");
}

/* Adds a record as "key = value". 0, or -1 out of memory. */
__attribute__((unused)) static int wdiff_add(wdiff_set_t *s, const void *key, size_t key_len,
                                             const void *value, size_t value_len) {
  char k[512], v[128], line[700];
  wdiff_key(k, sizeof k, key, key_len);
  wdiff_value(v, sizeof v, value, value_len);
  snprintf(line, sizeof line, "%s = %s", k, v);
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    char **lines = realloc(s->lines, cap * sizeof *lines);
    if (!lines)
      return -1;
    s->lines = lines;
    s->cap = cap;
  }
  s->lines[s->n] = strdup(line);
  if (!s->lines[s->n])
    return -1;
  s->n++;
  return 0;
}

__attribute__((unused)) static void wdiff_free(wdiff_set_t *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->lines[i]);
  free(s->lines);
  *s = (wdiff_set_t){0};
}

static int wdiff_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts both and walks them together: every line in one and not in the
 * other (counted with multiplicity: a window emitted twice on one side is a
 * difference) is printed to `out` (the first `max_print` of them, "- "
 * for a's, "+ " for b's) and counted. Returns the number of differences. */
__attribute__((unused)) static size_t wdiff_compare(wdiff_set_t *a, const char *a_name,
                                                    wdiff_set_t *b, const char *b_name, FILE *out,
                                                    size_t max_print) {
  size_t i = 0, j = 0, diffs = 0;
  if (a->n) /* an empty set's lines are NULL, which qsort may not take */
    qsort(a->lines, a->n, sizeof *a->lines, wdiff_cmp);
  if (b->n)
    qsort(b->lines, b->n, sizeof *b->lines, wdiff_cmp);
  while (i < a->n || j < b->n) {
    int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->lines[i], b->lines[j]);
    if (c == 0) {
      i++, j++;
      continue;
    }
    if (out && diffs < max_print)
      fprintf(out, "%s %s (only in %s)\n", c < 0 ? "-" : "+", c < 0 ? a->lines[i] : b->lines[j],
              c < 0 ? a_name : b_name);
    diffs++;
    if (c < 0)
      i++;
    else
      j++;
  }
  if (out && diffs > max_print)
    fprintf(out, "... and %zu more differences\n", diffs - max_print);
  return diffs;
}

#endif
