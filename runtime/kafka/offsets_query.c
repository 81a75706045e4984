#include "kafka/offsets_query.h"

#include "util/clock.h"

/* One logical time (EARLIEST or LATEST) of one partition: its offset. */
static rd_kafka_resp_err_t offset_at(rd_kafka_t *rk, const char *topic, int32_t partition,
                                     int64_t logical, int timeout_ms, int64_t *offset) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic, partition)->offset = logical;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, l, timeout_ms);
  if (!err)
    err = l->elems[0].err;
  if (!err)
    *offset = l->elems[0].offset;
  rd_kafka_topic_partition_list_destroy(l);
  return err;
}

rd_kafka_resp_err_t weir_offsets_query(rd_kafka_t *rk, const char *topic, int32_t partition,
                                       int timeout_ms, int64_t *low, int64_t *high) {
  if (timeout_ms < 1) /* librdkafka reads a negative timeout as none */
    timeout_ms = 1;
  int64_t deadline = weir_now_ms() + timeout_ms;
  /* KAFKA-1588: one partition once per request, so two requests. */
  rd_kafka_resp_err_t err =
      offset_at(rk, topic, partition, RD_KAFKA_OFFSET_BEGINNING, timeout_ms, low);
  int64_t left = deadline - weir_now_ms();
  if (!err)
    err = left > 0 ? offset_at(rk, topic, partition, RD_KAFKA_OFFSET_END, (int)left, high)
                   : RD_KAFKA_RESP_ERR__TIMED_OUT;
  return err;
}
