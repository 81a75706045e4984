#include "task/timestamp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/json.h>

#include "task/task.h"

/* Digits at p[0, n) as a number; -1 when one is not a digit. */
static int digits(const char *p, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

/* The zone at p[0, n): "Z", "+HH:MM", "+HHMM" or "+HH"; its offset in
 * minutes, or INT32_MIN. */
static int zone_minutes(const char *p, size_t n) {
  if (n == 1 && (*p == 'Z' || *p == 'z'))
    return 0;
  if (n < 3 || (*p != '+' && *p != '-'))
    return INT32_MIN;
  int h = digits(p + 1, 2), m = 0;
  if (n == 6 && p[3] == ':')
    m = digits(p + 4, 2);
  else if (n == 5)
    m = digits(p + 3, 2);
  else if (n != 3)
    return INT32_MIN;
  if (h < 0 || h > 23 || m < 0 || m > 59)
    return INT32_MIN;
  return (*p == '-' ? -1 : 1) * (h * 60 + m);
}

int weir_parse_iso8601(const char *s, size_t len, int64_t *ms) {
  /* YYYY-MM-DDTHH:MM:SS, then an optional fraction, then the zone. */
  if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':')
    return -1;
  int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
  int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
      mi < 0 || mi > 59 || sec < 0 || sec > 59)
    return -1;
  size_t i = 19;
  int frac = 0, scale = 100;
  if (i < len && (s[i] == '.' || s[i] == ',')) {
    size_t start = ++i;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
      frac += scale * (s[i] - '0'); /* beyond ms the digits add 0: truncated */
    if (i == start)
      return -1;
  }
  int zone = zone_minutes(s + i, len - i);
  if (zone == INT32_MIN)
    return -1;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - zone * 60;
  *ms = secs * 1000 + frac;
  return 0;
}

static int64_t bad(char *why, size_t why_size, const char *fmt, const char *a, const char *b) {
  if (why_size)
    snprintf(why, why_size, fmt, a, b);
  return -1;
}

/* `timestamp = json:PATH`. */
static int64_t from_json(const weir_node_t *src, const weir_input_t *in, char *why,
                         size_t why_size) {
  weir_json_value_t v;
  int64_t ts;
  int found = weir_json_find(in->value, in->value ? in->value_len : 0, src->ts_path, &v);
  if (found < 0)
    return bad(why, why_size, "timestamp json:%s: the value is not valid JSON%s", src->ts_path, "");
  if (found == 0 || v.kind == WEIR_JSON_NULL)
    return bad(why, why_size, "timestamp json:%s: the value has no such member%s", src->ts_path,
               "");
  if (v.kind == WEIR_JSON_NUMBER) {
    if (weir_json_int64(&v, &ts) || ts < 0)
      return bad(why, why_size,
                 "timestamp json:%s: %s is not a non-negative whole number of ms since the epoch",
                 src->ts_path, "the member");
    return ts;
  }
  if (v.kind == WEIR_JSON_STRING && weir_parse_iso8601(v.text, v.len, &ts) == 0 && ts >= 0)
    return ts;
  return bad(why, why_size,
             "timestamp json:%s: the member is neither ms since the epoch nor an ISO-8601 "
             "date-time with its zone (as 2026-12-03T10:00:00.123+01:00 or ...Z)%s",
             src->ts_path, "");
}

/* `timestamp = extractor:P.T`: the source's instance in this task. */
static int64_t from_extractor(weir_task_t *task, weir_node_inst_t *src, size_t topic_index,
                              const weir_input_t *in, char *why, size_t why_size) {
  weir_record_t rec = WEIR_RECORD_INIT;
  int64_t ts = -1;
  rec.key = in->key;
  rec.key_len = in->key_len;
  rec.value = in->value;
  rec.value_len = in->value_len;
  rec.timestamp = in->timestamp;
  rec.headers = in->msg ? NULL : in->headers;
  rec.header_count = in->msg ? 0 : in->header_count;
  int rc = src->impl->op->def.extract_timestamp(&src->ctx, src->self, &rec,
                                                task->partition_time[topic_index], &ts);
  if (rc != WEIR_OK || ts < 0) {
    char detail[64];
    if (rc != WEIR_OK)
      snprintf(detail, sizeof detail, "returned error %d", rc);
    else
      snprintf(detail, sizeof detail, "gave the negative timestamp %lld", (long long)ts);
    if (why_size)
      snprintf(why, why_size, "timestamp extractor %s.%s %s", src->impl->plugin->ref,
               src->impl->op->def.type, detail);
    return -1;
  }
  return ts;
}

int64_t weir_task_extract_timestamp(weir_task_t *task, size_t topic_index, const weir_input_t *in,
                                    char *why, size_t why_size) {
  weir_node_inst_t *src = &task->insts[task->env->topic_sources[topic_index][0]];
  int64_t ts;
  switch (src->node->ts_mode) {
  case WEIR_TS_JSON: ts = from_json(src->node, in, why, why_size); break;
  case WEIR_TS_EXTRACTOR:
    ts = src->initialized
             ? from_extractor(task, src, topic_index, in, why, why_size)
             : bad(why, why_size, "timestamp extractor %s%s is not running", src->node->name, "");
    break;
  default:
    ts = in->timestamp;
    if (ts < 0)
      bad(why, why_size, "the record's timestamp is missing or negative%s%s", "", "");
  }
  if (ts > task->partition_time[topic_index])
    task->partition_time[topic_index] = ts;
  return ts;
}

int64_t weir_task_message_timestamp(weir_task_t *task, size_t topic_index,
                                    const rd_kafka_message_t *msg) {
  weir_input_t in = {msg,          NULL,         msg->partition, msg->offset, -1, msg->key,
                     msg->key_len, msg->payload, msg->len,       NULL,        0};
  in.timestamp = rd_kafka_message_timestamp(msg, NULL);
  return weir_task_extract_timestamp(task, topic_index, &in, NULL, 0);
}

/* Text, not binary: a person reading the group's offsets (kafka-consumer-
 * groups, kcat) sees what it is. */
static const char STREAM_TIME_TAG[] = "weir:st=";

size_t weir_stream_time_encode(int64_t stream_time, char *buf) {
  int n = snprintf(buf, WEIR_STREAM_TIME_META, "%s%lld", STREAM_TIME_TAG, (long long)stream_time);
  return n > 0 && n < WEIR_STREAM_TIME_META ? (size_t)n : 0;
}

int64_t weir_stream_time_decode(const void *metadata, size_t size) {
  char text[WEIR_STREAM_TIME_META];
  size_t tag = sizeof STREAM_TIME_TAG - 1;
  if (!metadata || size <= tag || size >= sizeof text || memcmp(metadata, STREAM_TIME_TAG, tag))
    return -1;
  memcpy(text, metadata, size);
  text[size] = '\0';
  char *end;
  errno = 0;
  long long v = strtoll(text + tag, &end, 10);
  return errno || *end || end == text + tag || v < 0 ? -1 : (int64_t)v;
}
