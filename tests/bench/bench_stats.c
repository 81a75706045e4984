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
  double rss_min, rss_max;
  *med = (bench_result_t){.ok = n > 0};
  med->records_per_sec = bench_median_range(rate, n, &med->rate_min, &med->rate_max);
  med->peak_rss_kb = (long)bench_median_range(rss, n, &rss_min, &rss_max);
  med->rss_min_kb = (long)rss_min, med->rss_max_kb = (long)rss_max;
  med->cpu_sec = bench_median_range(cpu, n, &med->cpu_min, &med->cpu_max);
  med->startup_sec = bench_median(start, n);
  /* Sorted, so one run without the figure (< 0) shows in the min. */
  med->broker_cpu_sec = bench_median_range(broker, n, &med->broker_cpu_min, &med->broker_cpu_max);
}

void bench_pair(const bench_result_t *a, const bench_result_t *b, int n, bench_paired_t *out) {
  enum { MAX = 64 };
  double rate[MAX], cpu[MAX];
  *out = (bench_paired_t){0};
  if (n < 1 || n > MAX)
    return;
  for (int k = 0; k < n; k++) {
    if (!a[k].ok || !b[k].ok || b[k].records_per_sec <= 0 || b[k].cpu_sec <= 0)
      return;
    rate[k] = a[k].records_per_sec / b[k].records_per_sec;
    cpu[k] = a[k].cpu_sec / b[k].cpu_sec;
  }
  out->rate = bench_median_range(rate, n, &out->rate_min, &out->rate_max);
  out->cpu = bench_median_range(cpu, n, &out->cpu_min, &out->cpu_max);
  out->ok = 1;
}
