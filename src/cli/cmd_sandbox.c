/* cmd_sandbox.c: the `slotctl sandbox` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_sandbox_up(const struct cmd_args *args)
{
	(void)args;
	cli_error("sandbox up: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_sandbox_up_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_sandbox_up = {
	.name = "sandbox up",
	.synopsis = "[--masters N] [--replicas N] [--port PORT] [--dir DIR] [--keys N] [--skewed]",
	.summary = "start a throwaway local cluster of redis-server processes",
	.options = cmd_sandbox_up_options,
	.min_args = 0,
	.max_args = 0,
	.run = run_sandbox_up,
};

static int run_sandbox_down(const struct cmd_args *args)
{
	(void)args;
	cli_error("sandbox down: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_sandbox_down_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_sandbox_down = {
	.name = "sandbox down",
	.synopsis = "[--dir DIR]",
	.summary = "stop exactly the processes a sandbox started",
	.options = cmd_sandbox_down_options,
	.min_args = 0,
	.max_args = 0,
	.run = run_sandbox_down,
};

static int run_sandbox_status(const struct cmd_args *args)
{
	(void)args;
	cli_error("sandbox status: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_sandbox_status_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_sandbox_status = {
	.name = "sandbox status",
	.synopsis = "[--dir DIR]",
	.summary = "show a sandbox's nodes and whether they run",
	.options = cmd_sandbox_status_options,
	.min_args = 0,
	.max_args = 0,
	.run = run_sandbox_status,
};
