#include "task/node_stats.h"

#include <math.h>
#include <time.h>

double weir_stats_bucket_bound(int i) {
  if (i >= WEIR_STATS_BUCKETS - 1)
    return INFINITY;
  double b = 1e-6;
  while (i-- > 0)
    b *= 4;
  return b;
}

void weir_node_stats_time(weir_node_stats_t *s, uint64_t ns) {
  uint64_t bound = 1000;
  int i = 0;
  while (i < WEIR_STATS_BUCKETS - 1 && ns > bound) {
    bound *= 4;
    i++;
  }
  s->bucket[i]++;
  s->timed++;
  s->time_ns += ns;
}

uint64_t weir_stats_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void weir_node_stats_add(weir_node_stats_t *to, const weir_node_stats_t *from) {
  to->in += from->in;
  to->out += from->out;
  to->errors += from->errors;
  to->timed += from->timed;
  to->time_ns += from->time_ns;
  for (int i = 0; i < WEIR_STATS_BUCKETS; i++)
    to->bucket[i] += from->bucket[i];
}

void weir_policy_stats_add(weir_policy_stats_t *to, const weir_policy_stats_t *from) {
  to->deserialization_errors += from->deserialization_errors;
  to->processing_errors += from->processing_errors;
  to->skipped += from->skipped;
  to->dead_lettered += from->dead_lettered;
}
