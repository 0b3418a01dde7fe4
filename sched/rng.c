/* sched/rng.c: the only source of randomness in sched/: xoshiro256** seeded
 * through splitmix64, so a seed gives the same stream on every machine.
 * Invariant: the state is never all zero (splitmix64 output cannot be).
 */
#include "sched/sched.h"

#include <math.h>

static uint64_t
s_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void
sched_rng_seed(sched_rng_t *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = s_splitmix64(&seed);
}

static uint64_t
s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
sched_rng_next(sched_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return result;
}

double
sched_rng_uniform(sched_rng_t *rng)
{
    return (double)(sched_rng_next(rng) >> 11) * 0x1.0p-53;
}

double
sched_rng_normal(sched_rng_t *rng)
{
    /* Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]. */
    double u = 1.0 - sched_rng_uniform(rng);
    double v = sched_rng_uniform(rng);
    return sqrt(-2.0 * log(u)) * cos(2.0 * 3.14159265358979323846 * v);
}
