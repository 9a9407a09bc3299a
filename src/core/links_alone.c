/* links_alone.c: a program that links every object of the core library
 * (link_whole) and nothing of io, so that the build fails when the core
 * calls a function that only io, hiredis or pthreads define, even one
 * declared by hand without its header (src/meson.build). It is never run. */
#include "slotctl/core/exitcode.h"

int main(void)
{
	return SC_EXIT_OK;
}
