/* weir query — ask a running instance's HTTP server for a key or a range of
 * a store and print the answer for a person at a terminal. */
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <weir/json.h>

#include "commands.h"
#include "text_buf.h"

static const char usage[] =
    "usage: weir query ADDR STORE KEY              print one key's value\n"
    "       weir query ADDR STORE --range [--from K] [--to K] [--prefix P] [--limit N]\n"
    "                                              print keys in order (N at most, default 100)\n"
    "       weir query ADDR --stores               list the stores\n"
    "ADDR is the instance's http.listen (host:port). --token T (or WEIR_HTTP_TOKEN) is sent\n"
    "as 'Authorization: Bearer T'. Exit 0 when answered, 1 when not found or refused, 2 on\n"
    "bad usage.\n";

typedef struct query_args {
  const char *addr, *store, *key, *from, *to, *prefix, *token;
  long limit;
  int range, stores;
} query_args_t;

static int connect_to(const char *addr) {
  char host[256];
  const char *colon = strrchr(addr, ':');
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host) {
    fprintf(stderr, "weir query: '%s' is not host:port\n", addr);
    return -1;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
  if (host[0] == '[') /* [v6] */
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr) - 2, addr + 1);
  int rc = getaddrinfo(host, colon + 1, &hints, &res), fd = -1;
  for (struct addrinfo *a = rc ? NULL : res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, 0);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  if (res)
    freeaddrinfo(res);
  if (fd < 0)
    fprintf(stderr, "weir query: cannot connect to %s: is weir running with http.listen = %s?\n",
            addr, addr);
  return fd;
}

/* GET `path`: the status (0 when there was no answer) and the body in `body`. */
static int http_get(const query_args_t *a, const char *path, cli_buf_t *body) {
  cli_buf_t req = {0}, resp = {0};
  char buf[16384];
  int fd = connect_to(a->addr);
  if (fd < 0)
    return 0;
  cli_buf_printf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", path, a->addr);
  if (a->token)
    cli_buf_printf(&req, "Authorization: Bearer %s\r\n", a->token);
  cli_buf_str(&req, "\r\n");
  int ok = !req.failed && send(fd, req.data, req.len, MSG_NOSIGNAL) == (ssize_t)req.len;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  ssize_t n;
  while (ok && poll(&p, 1, 30000) > 0 && (n = recv(fd, buf, sizeof buf, 0)) > 0)
    cli_buf_bytes(&resp, buf, (size_t)n);
  close(fd);
  cli_buf_free(&req);
  char *end = resp.data ? strstr(resp.data, "\r\n\r\n") : NULL;
  int status = end && strncmp(resp.data, "HTTP/1.", 7) == 0 ? atoi(resp.data + 9) : 0;
  if (end)
    cli_buf_str(body, end + 4);
  if (!status)
    fprintf(stderr, "weir query: no HTTP answer from %s\n", a->addr);
  cli_buf_free(&resp);
  return status;
}

/* A member of a JSON object as text (a string's content unquoted). */
static void print_member(const char *json, size_t len, const char *name, FILE *out) {
  weir_json_value_t v;
  if (weir_json_find(json, len, name, &v) == 1)
    fprintf(out, "%.*s", (int)v.len, v.text);
}

static int refused(int status, const cli_buf_t *body) {
  if (status == 0)
    return 1;
  fprintf(stderr, "weir query: ");
  print_member(body->data ? body->data : "", body->len, "error", stderr);
  fprintf(stderr, " (HTTP %d)\n", status);
  return 1;
}

static int get_key(const query_args_t *a) {
  cli_buf_t path = {0}, body = {0};
  cli_buf_str(&path, "/v1/stores/");
  cli_buf_url_encode(&path, a->store);
  cli_buf_str(&path, "/keys/");
  cli_buf_url_encode(&path, a->key);
  int status = http_get(a, path.data, &body);
  int rc = status == 200 ? 0 : refused(status, &body);
  if (rc == 0) {
    print_member(body.data, body.len, "key", stdout);
    fputs(" = ", stdout);
    print_member(body.data, body.len, "value", stdout);
    fputs("\n", stdout);
  }
  cli_buf_free(&path);
  cli_buf_free(&body);
  return rc;
}

/* Print a page's rows; returns how many. Each row object starts with
 * {"key": (a quote inside a string is escaped, so this never matches
 * inside one). */
static long print_rows(const cli_buf_t *body) {
  long n = 0;
  const char *end = body->data + body->len;
  for (const char *r = strstr(body->data, "{\"key\":"); r; r = strstr(r + 1, "{\"key\":")) {
    print_member(r, (size_t)(end - r), "key", stdout);
    fputs("\t", stdout);
    print_member(r, (size_t)(end - r), "value", stdout);
    fputs("\n", stdout);
    n++;
  }
  return n;
}

static void range_path(const query_args_t *a, long page, const char *cursor, cli_buf_t *path) {
  path->len = 0;
  cli_buf_str(path, "/v1/stores/");
  cli_buf_url_encode(path, a->store);
  cli_buf_printf(path, "/range?limit=%ld", page);
  const char *names[] = {"from", "to", "prefix", "cursor"};
  const char *values[] = {a->from, a->to, a->prefix, cursor};
  for (int i = 0; i < 4; i++)
    if (values[i] && *values[i]) {
      cli_buf_printf(path, "&%s=", names[i]);
      cli_buf_url_encode(path, values[i]);
    }
}

/* Pages of up to 1000 until `limit` rows are printed or none are left. */
static int range(const query_args_t *a) {
  cli_buf_t path = {0}, body = {0};
  char cursor[8300] = "";
  long printed = 0;
  int rc = 0;
  do {
    long page = a->limit - printed < 1000 ? a->limit - printed : 1000;
    range_path(a, page, cursor, &path);
    body.len = 0;
    int status = http_get(a, path.data, &body);
    if (status != 200) {
      rc = refused(status, &body);
      break;
    }
    printed += print_rows(&body);
    weir_json_value_t v;
    cursor[0] = '\0';
    if (weir_json_find(body.data, body.len, "next_cursor", &v) == 1 && v.kind == WEIR_JSON_STRING)
      snprintf(cursor, sizeof cursor, "%.*s", (int)v.len, v.text);
  } while (cursor[0] && printed < a->limit);
  if (rc == 0 && cursor[0])
    fprintf(stderr, "weir query: more keys follow (--limit %ld printed)\n", printed);
  cli_buf_free(&path);
  cli_buf_free(&body);
  return rc;
}

static int list_stores(const query_args_t *a) {
  cli_buf_t body = {0};
  int status = http_get(a, "/v1/stores", &body);
  int rc = status == 200 ? 0 : refused(status, &body);
  if (rc == 0)
    fputs(body.data, stdout);
  cli_buf_free(&body);
  return rc;
}

static int parse(int argc, char **argv, query_args_t *a) {
  static const struct option opts[] = {{"range", no_argument, NULL, 'r'},
                                       {"stores", no_argument, NULL, 's'},
                                       {"from", required_argument, NULL, 'f'},
                                       {"to", required_argument, NULL, 't'},
                                       {"prefix", required_argument, NULL, 'p'},
                                       {"limit", required_argument, NULL, 'l'},
                                       {"token", required_argument, NULL, 'T'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c, bad = 0;
  memset(a, 0, sizeof *a);
  a->limit = 100;
  a->token = getenv("WEIR_HTTP_TOKEN");
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'r': a->range = 1; break;
    case 's': a->stores = 1; break;
    case 'f': a->from = optarg; break;
    case 't': a->to = optarg; break;
    case 'p': a->prefix = optarg; break;
    case 'l': bad |= (a->limit = weir_cli_parse_long(optarg)) < 1; break;
    case 'T': a->token = optarg; break;
    case 'h': fputs(usage, stdout); return 1;
    default: bad = 1;
    }
  }
  int rest = argc - optind;
  a->addr = rest > 0 ? argv[optind] : NULL;
  a->store = rest > 1 ? argv[optind + 1] : NULL;
  a->key = rest > 2 ? argv[optind + 2] : NULL;
  bad |= !a->addr || (a->stores ? rest != 1 : a->range ? rest != 2 : rest != 3);
  if (bad)
    fputs(usage, stderr);
  return bad ? 2 : 0;
}

int weir_cmd_query(int argc, char **argv) {
  query_args_t a;
  int rc = parse(argc, argv, &a);
  if (rc)
    return rc == 1 ? 0 : rc;
  if (a.stores)
    return list_stores(&a);
  return a.range ? range(&a) : get_key(&a);
}
