#include "app/exactly_once.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "kafka/kafka_conf.h"

/* librdkafka's mock cluster names itself "mockCluster<hex>". */
int weir_eos_check_broker(const weir_topology_t *t, const char *bootstrap, char *errstr,
                          size_t errstr_size) {
  char why[512];
  if (t->settings.guarantee != WEIR_EXACTLY_ONCE)
    return 0;
  rd_kafka_conf_t *conf = weir_kafka_conf_new(&t->kafka_settings, bootstrap, WEIR_CLIENT_ADMIN,
                                              "weir-eos-check", errstr, errstr_size);
  if (!conf)
    return -1;
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "cannot create a Kafka client for %s: %s", bootstrap, why);
    return -1;
  }
  char *id = rd_kafka_clusterid(rk, 30000);
  int mock = id && strncmp(id, "mockCluster", 11) == 0;
  if (id)
    rd_kafka_mem_free(rk, id);
  rd_kafka_destroy(rk);
  if (mock)
    snprintf(errstr, errstr_size,
             "%s: processing.guarantee = exactly_once is refused on the embedded broker (%s): "
             "its transactions are not faithful (aborted records visible, no fencing); run on a "
             "real Kafka cluster or set processing.guarantee = at_least_once",
             t->path ? t->path : "topology", bootstrap);
  return mock ? -1 : 0;
}

static void random_id(char *out, size_t out_size) {
  unsigned char b[8] = {0};
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
    unsigned long long x = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    memcpy(b, &x, sizeof b);
  }
  if (fd >= 0)
    close(fd);
  snprintf(out, out_size, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
           b[6], b[7]);
}

/* The id kept in the state dir; 0 when read or made there. */
static int kept_id(const weir_topology_t *t, char *out, size_t out_size) {
  char dir[1024], path[1100];
  const weir_settings_t *s = &t->settings;
  if (!s->state_dir || !s->application_id)
    return -1;
  snprintf(dir, sizeof dir, "%s/%s", s->state_dir, s->application_id);
  snprintf(path, sizeof path, "%s/instance.id", dir);
  FILE *f = fopen(path, "r");
  if (f) {
    int ok = fgets(out, (int)out_size, f) != NULL;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    if (ok && out[0])
      return 0;
  }
  if ((mkdir(s->state_dir, 0700) && errno != EEXIST) || (mkdir(dir, 0700) && errno != EEXIST))
    return -1;
  random_id(out, out_size);
  f = fopen(path, "w");
  if (!f)
    return -1;
  int bad = fprintf(f, "%s\n", out) < 0;
  return fclose(f) || bad ? -1 : 0;
}

void weir_eos_instance_id(const weir_topology_t *t, char *out, size_t out_size) {
  for (size_t i = 0; i < t->kafka_count; i++)
    if (strcmp(t->kafka[i].key, "group.instance.id") == 0 && t->kafka[i].value[0]) {
      snprintf(out, out_size, "%s", t->kafka[i].value);
      return;
    }
  if (kept_id(t, out, out_size))
    random_id(out, out_size);
}
