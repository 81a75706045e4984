/* The standard operators' definitions, gathered by std_plugin.c. */
#ifndef WEIR_STD_OPS_H
#define WEIR_STD_OPS_H

#include <weir/weir.h>

extern const weir_operator_def_t std_passthrough_op;
extern const weir_operator_def_t std_filter_op;
extern const weir_operator_def_t std_split_op;
extern const weir_operator_def_t std_rekey_op;
extern const weir_operator_def_t std_branch_op;
extern const weir_operator_def_t std_log_op;
/* Stateful (ABI 1.1: a store and flush). */
extern const weir_operator_def_t std_count_op;
extern const weir_operator_def_t std_aggregate_op;
extern const weir_operator_def_t std_latest_op;
extern const weir_operator_def_t std_table_op;
extern const weir_operator_def_t std_dedupe_op;
/* Windowed (ABI 1.2: window and session stores). */
extern const weir_operator_def_t std_window_op;
/* Joins (ABI 1.3: which input a record came from). */
extern const weir_operator_def_t std_join_op;
extern const weir_operator_def_t std_join_fk_right_op;

#endif
