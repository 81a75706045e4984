/* The medians of a column's runs, with the slowest and fastest beside each,
 * so a table can tell a change from noise. */
#include <stdlib.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n ? v[n / 2] : 0;
}

double bench_median_range(double *v, int n, double *min, double *max) {
  double m = bench_median(v, n);
  if (min)
    *min = n ? v[0] : 0;
  if (max)
    *max = n ? v[n - 1] : 0;
  return m;
}

void bench_summarize(const bench_result_t *runs, int n, bench_result_t *med) {
  enum { MAX = 64 };
  double rate[MAX], rss[MAX], cpu[MAX], start[MAX], broker[MAX];
  if (n > MAX)
    n = MAX;
  for (int i = 0; i < n; i++)
    rate[i] = runs[i].records_per_sec, rss[i] = (double)runs[i].peak_rss_kb,
    cpu[i] = runs[i].cpu_sec, start[i] = runs[i].startup_sec, broker[i] = runs[i].broker_cpu_sec;
  *med = (bench_result_t){.ok = n > 0};
  med->records_per_sec = bench_median(rate, n);
  med->peak_rss_kb = (long)bench_median(rss, n);
  med->cpu_sec = bench_median(cpu, n);
  med->startup_sec = bench_median(start, n);
  /* Sorted, so one run without the figure (< 0) shows in the min. */
  med->broker_cpu_sec = bench_median_range(broker, n, &med->broker_cpu_min, &med->broker_cpu_max);
  if (!n)
    return;
  med->rate_min = rate[0], med->rate_max = rate[n - 1];
  med->rss_min_kb = (long)rss[0], med->rss_max_kb = (long)rss[n - 1];
  med->cpu_min = cpu[0], med->cpu_max = cpu[n - 1];
}

void bench_pair(const bench_result_t *weir, const bench_result_t *other, int n,
                bench_paired_t *out) {
  enum { MAX = 64 };
  double rate[MAX], cpu[MAX];
  *out = (bench_paired_t){0};
  if (n < 1 || n > MAX)
    return;
  for (int k = 0; k < n; k++) {
    if (!weir[k].ok || !other[k].ok || other[k].records_per_sec <= 0 || other[k].cpu_sec <= 0)
      return;
    rate[k] = weir[k].records_per_sec / other[k].records_per_sec;
    cpu[k] = weir[k].cpu_sec / other[k].cpu_sec;
  }
  out->rate = bench_median_range(rate, n, &out->rate_min, &out->rate_max);
  out->cpu = bench_median_range(cpu, n, &out->cpu_min, &out->cpu_max);
  out->ok = 1;
}
