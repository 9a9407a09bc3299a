/* commands.c: the table of every subcommand, in the order help lists them. */
#include "slotctl/cli/cli.h"

extern const struct cmd_entry cmd_check;
extern const struct cmd_entry cmd_sandbox_up;
extern const struct cmd_entry cmd_sandbox_down;
extern const struct cmd_entry cmd_sandbox_status;
extern const struct cmd_entry cmd_plan_reshard;
extern const struct cmd_entry cmd_plan_rebalance;
extern const struct cmd_entry cmd_plan_drain;
extern const struct cmd_entry cmd_show;
extern const struct cmd_entry cmd_apply;
extern const struct cmd_entry cmd_resume;
extern const struct cmd_entry cmd_abort;
extern const struct cmd_entry cmd_reshard;
extern const struct cmd_entry cmd_rebalance;
extern const struct cmd_entry cmd_fix;
extern const struct cmd_entry cmd_node_add;
extern const struct cmd_entry cmd_node_remove;
extern const struct cmd_entry cmd_node_forget_failed;

const struct cmd_entry *const cmd_table[] = {
	&cmd_check,
	&cmd_sandbox_up,
	&cmd_sandbox_down,
	&cmd_sandbox_status,
	&cmd_plan_reshard,
	&cmd_plan_rebalance,
	&cmd_plan_drain,
	&cmd_show,
	&cmd_apply,
	&cmd_resume,
	&cmd_abort,
	&cmd_reshard,
	&cmd_rebalance,
	&cmd_fix,
	&cmd_node_add,
	&cmd_node_remove,
	&cmd_node_forget_failed,
	NULL,
};
