/* host_api_windows — the host API's window and session store functions
 * (weir.h 1.2): host_api.c puts them in the table. Each one first brings the
 * store's stream time up to the task's, so expiry follows the task. */
#ifndef WEIR_TASK_HOST_API_WINDOWS_H
#define WEIR_TASK_HOST_API_WINDOWS_H

#include <weir/weir.h>

#include "task/task_state.h"

int weir_api_store_kind(weir_store_t *store);
int weir_api_window_put(weir_store_t *store, const void *key, size_t key_len, int64_t window_start,
                        const void *value, size_t value_len);
weir_iter_t *weir_api_window_fetch(weir_store_t *store, const void *key, size_t key_len,
                                   int64_t time_from, int64_t time_to);
weir_iter_t *weir_api_window_fetch_all(weir_store_t *store, int64_t time_from, int64_t time_to);
weir_iter_t *weir_api_session_find(weir_store_t *store, const void *key, size_t key_len,
                                   int64_t earliest_end, int64_t latest_start);
int weir_api_session_put(weir_store_t *store, const void *key, size_t key_len, int64_t start,
                         int64_t end, const void *value, size_t value_len);
int weir_api_session_remove(weir_store_t *store, const void *key, size_t key_len, int64_t start,
                            int64_t end);
/* For an iterator of the key-value kind: WEIR_EINVAL (window iterators carry
 * their own table, whose iter_window answers). */
int weir_api_iter_window(weir_iter_t *it, int64_t *start, int64_t *end);
/* The store's kept iterator wrapper, freed when the store closes. */
void weir_api_window_spare_free(weir_task_store_t *ts);

#endif
