#!/usr/bin/env bash
# completions.sh DIR: loads the bash, zsh and fish completions in DIR in their
# own shells and asks each for the same completions (a command, a subcommand,
# an option of a command and of a subcommand, an option's fixed values, the
# command words after `help`), failing on a load error or a wrong answer;
# zsh and fish must also describe options. The bash file must pass
# shellcheck. zsh, fish and shellcheck are skipped, with a note, when not
# installed (tests/run.sh installs them).
set -uo pipefail
dir=$1
status=0

# expect SHELL CASE GOT WANT: GOT (words, any order) must contain WANT's words.
expect() {
	local word
	for word in $4; do
		if ! grep -qx -- "$word" <<<"$(tr ' ' '\n' <<<"$3")"; then
			echo "FAIL: $1: completing '$2' gave '$3', without '$word'"
			status=1
		fi
	done
}

# The cases: the words typed, the last one being completed; what must come.
cases=("slotctl ch|check" "slotctl sandbox u|up" "slotctl check --d|--deep"
	"slotctl sandbox up --m|--masters" "slotctl plan rebalance --use|--use-empty-masters"
	"slotctl apply --migrate|--migrate-timeout" "slotctl fix --prefer o|owner"
	"slotctl plan rebalance --by s|slots" "slotctl reshard --pick c|cheapest" "slotctl check --h|--help"
	"slotctl help pl|plan" "slotctl help plan re|reshard rebalance")

for c in "${cases[@]}"; do
	line=${c%%|*} want=${c#*|}
	got=$(bash -c 'source "$1"; read -ra COMP_WORDS <<<"$2"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
		_slotctl; echo "${COMPREPLY[*]}"' _ "$dir/slotctl.bash" "$line" 2>&1)
	expect bash "$line" "$got" "$want"
done

if command -v zsh >/dev/null; then
	for c in "${cases[@]}"; do
		line=${c%%|*} want=${c#*|}
		# compadd, _describe (names only) and _files stand in for the completion system's own
		got=$(zsh -c 'compadd() { [[ $1 == -- ]] && shift; print -r -- "$*" }; _files() { :; }
			_describe() { local -a a; a=("${(@P)4}"); print -r -- "${a[@]%%:*}" }
			source "$1"; words=(${=2}); CURRENT=${#words}; PREFIX=$words[-1]; _slotctl' \
			_ "$dir/_slotctl" "$line" 2>&1)
		expect zsh "$line" "$got" "$want"
	done
	# the options come with their help
	got=$(zsh -c '_describe() { local -a a; a=("${(@P)4}"); print -rl -- "${a[@]}" }
		source "$1"; words=(slotctl check --j); CURRENT=3; PREFIX=--j; _slotctl' _ "$dir/_slotctl" 2>&1)
	if ! grep -q -- '^--json:print a versioned JSON' <<<"$got"; then
		echo "FAIL: zsh: 'slotctl check --j' is not described: $got"
		status=1
	fi
else
	echo "note: zsh not installed, its completion not tried"
fi

if command -v fish >/dev/null; then
	for c in "${cases[@]}"; do
		line=${c%%|*} want=${c#*|}
		got=$(fish -c 'source $argv[1]; complete -C"$argv[2]"' "$dir/slotctl.fish" "$line" 2>&1 |
			cut -f1 | tr '\n' ' ')
		expect fish "$line" "$got" "$want"
	done
	got=$(fish -c 'source $argv[1]; complete -C"slotctl check --j"' "$dir/slotctl.fish" 2>&1)
	if ! grep -q -- $'^--json\tprint a versioned JSON' <<<"$got"; then
		echo "FAIL: fish: 'slotctl check --j' is not described: $got"
		status=1
	fi
else
	echo "note: fish not installed, its completion not tried"
fi

if command -v shellcheck >/dev/null; then
	if ! shellcheck -s bash "$dir/slotctl.bash"; then
		echo "FAIL: shellcheck finds fault with slotctl.bash"
		status=1
	fi
else
	echo "note: shellcheck not installed, slotctl.bash not checked"
fi

[ "$status" -eq 0 ] && echo "completions: every case answered as expected"
exit "$status"
