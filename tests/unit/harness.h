/* The unit-test harness: CHECK macros and the behaviour list.
 *
 * Each behaviour is one function `test_<module>_<class>_<behaviour>(void)`, named
 * in a list file (gossip.list, sched.list, node.list) as
 * `TEST(<module>_<class>, <behaviour>)`. CMake reads the same lists to register
 * one CTest test per behaviour, each in its own process. A failed CHECK prints
 * where and exits non-zero; there is nothing to clean up after.
 */
#ifndef SHOAL_TESTS_HARNESS_H
#define SHOAL_TESTS_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, op, b)                                                                        \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (!(check_a_ op check_b_)) {                                                             \
            fprintf(stderr, "%s:%d: check failed: %s %s %s (%lld vs %lld)\n", __FILE__, __LINE__,  \
                    #a, #op, #b, check_a_, check_b_);                                              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                           \
            fprintf(stderr, "%s:%d: check failed: %s == %s (\"%s\" vs \"%s\")\n", __FILE__,        \
                    __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",                              \
                    check_b_ ? check_b_ : "(null)");                                               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#endif
