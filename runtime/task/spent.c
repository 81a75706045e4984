#include "task/spent.h"

void weir_spent_flush(weir_spent_t *s) {
  for (size_t i = 0; i < s->count; i++)
    rd_kafka_message_destroy(s->msgs[i]);
  s->count = 0;
}

void weir_spent_add(weir_spent_t *s, rd_kafka_message_t *msg) {
  if (!s) {
    rd_kafka_message_destroy(msg);
    return;
  }
  s->msgs[s->count++] = msg;
  if (s->count == WEIR_SPENT_MAX)
    weir_spent_flush(s);
}
