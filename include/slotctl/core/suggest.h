/* suggest.h: "did you mean": which of a list of known words (commands,
 * option names) a mistyped word was probably meant to be. Pure. */
#ifndef SLOTCTL_SUGGEST_H
#define SLOTCTL_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

/* Words longer than this are never suggested nor compared. */
#define SUGGEST_WORD_MAX 64

/* The optimal string alignment distance between a and b: insertions,
 * deletions, substitutions and swaps of two neighbouring characters each
 * count 1. Words longer than SUGGEST_WORD_MAX are SUGGEST_WORD_MAX + 1 away
 * from everything. */
int suggest_distance(const char *a, const char *b);

/* Stores in out (at most max, in list order) the words of words[0..n) that
 * typed was probably meant to be, and returns how many:
 *  - the words that typed begins (it is an abbreviation of them; *prefix
 *    set true), else
 *  - the words nearest to typed, when at most a third of its length away
 *    (at least 1); *prefix set false.
 * Returns 0 for an empty typed word or when nothing is that close. prefix
 * may be NULL. */
int suggest_words(const char *typed, const char *const *words, int n, const char **out, int max,
	bool *prefix);

/* Writes words[0..n) into buf (size bytes, always terminated) as a list a
 * person reads: "'--a'", "'--a' or '--b'", "'--a', '--b' or '--c'", each word
 * after lead ("--", or ""). */
void suggest_format(const char *const *words, int n, const char *lead, char *buf, size_t size);

#endif
