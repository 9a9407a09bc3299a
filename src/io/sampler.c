/* sampler.c: placeholder; its subsystem has not landed yet. */
typedef int sampler_placeholder;
