/*
 * wordsplit.c — a complete weir operator, written as a tutorial.
 *
 * The operator "split-words" turns a line of text into words: for the value
 * "The cat, the HAT!" it forwards four records, the(key) the(value), cat/cat,
 * the/the, hat/hat. A word is a run of ASCII letters and digits; everything
 * else separates words. Put a `count` after it and you have a word count.
 *
 * Build it on its own (after installing the SDK, see ../README.md):
 *
 *   cc -shared -fPIC $(pkg-config --cflags weir-sdk) wordsplit.c -o wordsplit.so
 *
 * and use it from a topology:
 *
 *   [operator:words]
 *   plugin     = examples/wordsplit     ; or an absolute path to the .so
 *   type       = split-words
 *   input      = lines
 *   min.length = 3
 */

/* The one header a plugin may include. It declares the types, and wraps each
 * host service (forward, parameters, logging, metrics) in a static inline
 * function. Everything the host offers reaches us through the `ctx` pointer
 * passed to each callback, so this file links against nothing from weir —
 * the build checks that with -Wl,-z,defs. libc is fine. */
#include <weir/weir.h>

#include <stdio.h>
#include <stdlib.h>

/*
 * Parameters are declared as data, not parsed by hand. The host reads this
 * table before any record flows and checks the INI section against it: an
 * unknown key, a missing required key or a value out of range is reported
 * with file:line when the topology loads (and `weir validate` finds it
 * without running anything). The same table is what `weir plugin info` and
 * `weir describe --params` print, so the one-line docs here are the
 * operator's reference manual.
 *
 * WEIR_PARAM_INT(name, default as INI text, min, max, doc).
 */
static const weir_param_def_t split_words_params[] = {
    WEIR_PARAM_INT("min.length", "1", 1, 1024, "Skip words shorter than this many characters"),
    WEIR_PARAM_END,
};

/*
 * Per-instance state. The host creates one instance per task (one partition
 * of the input), and calls all of an instance's callbacks on the one thread
 * that owns the task, never at the same time. So nothing here needs a lock.
 * Global variables would be shared between tasks on different threads: avoid
 * them, or protect them.
 */
typedef struct split_words {
  size_t min_length;
  /* A reusable buffer for the lowercased word. The record path should not
   * allocate per record, so it only grows, and only on a line longer than
   * any seen before. */
  char *word;
  size_t word_cap;
} split_words_t;

/*
 * init: [task-thread] called once per task before its first record.
 * Parameters are already validated, so we only read them. On failure we
 * return a negative WEIR_E* code and one line in errstr; the host prints it
 * with the node's name and does not start the task.
 */
static int split_words_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  split_words_t *sw = calloc(1, sizeof *sw);
  if (!sw) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  sw->min_length = (size_t)weir_param_int(ctx, "min.length");
  *self = sw; /* handed back to process() and close() */
  return WEIR_OK;
}

static int is_word_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char ascii_lower(unsigned char c) {
  return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* Make room for a word of `len` bytes; keeps the buffer for later records. */
static int reserve_word(split_words_t *sw, size_t len) {
  if (len <= sw->word_cap)
    return WEIR_OK;
  char *p = realloc(sw->word, len);
  if (!p)
    return WEIR_ENOMEM;
  sw->word = p;
  sw->word_cap = len;
  return WEIR_OK;
}

/* Forward one word as a new record: key = value = the word. */
static int emit_word(weir_ctx_t *ctx, split_words_t *sw, const weir_record_t *in,
                     const unsigned char *start, size_t len) {
  for (size_t i = 0; i < len; i++)
    sw->word[i] = ascii_lower(start[i]);

  /* The output record lives on our stack and points into our buffer. That is
   * allowed: weir_forward() hands it to the children right now, and whatever
   * they keep (a sink producing to Kafka, a store) is copied. When it
   * returns, we may overwrite the buffer with the next word. */
  weir_record_t out = WEIR_RECORD_INIT;
  out.key = sw->word;
  out.key_len = len;
  out.value = sw->word;
  out.value_len = len;
  out.timestamp = in->timestamp; /* a word happened when its line did */
  out.headers = in->headers;     /* borrowed from the input: fine, same call */
  out.header_count = in->header_count;
  return weir_forward(ctx, &out);
}

/*
 * process: [task-thread] called for each record. `rec` and every byte it
 * points to are borrowed: valid until we return, then gone. Keys and values
 * are bytes with a length, not C strings: never assume a '\0' after them.
 * A NULL value is a tombstone (a delete); it has no words.
 *
 * Return WEIR_OK, or an error code (such as one passed up from a child) for
 * the host to apply the topology's error policy to this input record.
 */
static int split_words_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  split_words_t *sw = self;
  if (!rec->value)
    return WEIR_OK;
  if (reserve_word(sw, rec->value_len) != WEIR_OK) /* no word is longer than the line */
    return WEIR_ENOMEM;

  const unsigned char *p = rec->value, *end = p + rec->value_len;
  while (p < end) {
    while (p < end && !is_word_char(*p))
      p++;
    const unsigned char *start = p;
    while (p < end && is_word_char(*p))
      p++;
    size_t len = (size_t)(p - start);
    if (len == 0 || len < sw->min_length)
      continue;
    int rc = emit_word(ctx, sw, rec, start, len);
    if (rc != WEIR_OK)
      return rc;
  }
  return WEIR_OK;
}

/* close: [task-thread] once per successful init, when the task ends
 * (rebalance, shutdown, hot swap). Free everything: the host may unload this
 * .so right after, and a leak here is a leak on every rebalance. */
static void split_words_close(weir_ctx_t *ctx, void *self) {
  split_words_t *sw = self;
  (void)ctx; /* unused here, but every callback gets it */
  free(sw->word);
  free(sw);
}

/*
 * The operator's definition: static data the host copies when it loads the
 * plugin. struct_size lets a newer host read an older plugin (fields it does
 * not know are zero). Use designated initialisers so fields added by later
 * SDK versions default to zero.
 */
static const weir_operator_def_t split_words_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "split-words", /* what `type =` names in the INI */
    .doc = "Split the value into lowercase words; one record per word, keyed by the word",
    .params = split_words_params,
    .init = split_words_init,
    .process = split_words_process,
    .close = split_words_close,
};

/*
 * The entry point. WEIR_PLUGIN defines the one exported function,
 * weir_plugin_entry(), which returns a descriptor: the ABI version this file
 * was compiled against (the host refuses a different major, or a newer
 * minor, and names both), the plugin's name, version, doc, and its operators.
 * Everything else in this file is static, so it stays private to the .so.
 */
WEIR_PLUGIN("wordsplit", "1.0.0", "Example: split text into words", &split_words_op)
