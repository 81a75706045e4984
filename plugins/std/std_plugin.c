/* std — the standard operators, built on the public SDK like any plugin. */
#include "std_ops.h"

WEIR_PLUGIN("std", "0.2.0",
            "Standard operators: passthrough, filter, split, rekey, branch, log; stateful "
            "(need a store): count, aggregate, latest, table, dedupe, window, join",
            &std_passthrough_op, &std_filter_op, &std_split_op, &std_rekey_op, &std_branch_op,
            &std_log_op, &std_count_op, &std_aggregate_op, &std_latest_op, &std_table_op,
            &std_dedupe_op, &std_window_op, &std_join_op, &std_join_fk_right_op)
