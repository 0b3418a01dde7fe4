/* Splitting a list file's command into words as sh quotes it, without a
 * shell: blanks, single and double quotes, backslashes, empty words; and the
 * refusals, each naming what and where, of everything sh would read as
 * something other than a literal word.
 */
#include "harness.h"
#include "node/words.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

/* Splits text and checks the words against want (NULL-terminated). */
static void
s_check_words(const char *text, const char *const *want)
{
    char **words = NULL, err[256] = "";
    if (shoal_words_split(text, &words, err, sizeof(err)) != 0)
        fprintf(stderr, "split <%s>: %s\n", text, err);
    CHECK(words != NULL);
    size_t i = 0;
    for (; want[i]; i++) {
        if (!words[i] || strcmp(words[i], want[i]) != 0)
            fprintf(stderr, "split <%s>: word %zu\n", text, i);
        CHECK_STR(words[i], want[i]);
    }
    CHECK(words[i] == NULL);
    shoal_words_free(&words);
    CHECK(words == NULL);
}

/* Splitting text fails with an error that contains each of parts. */
static void
s_check_refused(const char *text, const char *part1, const char *part2)
{
    char **words = (char **)1, err[256] = "";
    int rc = shoal_words_split(text, &words, err, sizeof(err));
    if (rc == 0 || !strstr(err, part1) || (part2 && !strstr(err, part2)))
        fprintf(stderr, "split <%s>: rc %d, err '%s'\n", text, rc, err);
    CHECK_INT(rc, ==, -1);
    CHECK(words == NULL);
    CHECK(strstr(err, part1) != NULL);
    CHECK(!part2 || strstr(err, part2) != NULL);
}

void
test_node_words_splits_on_blanks(void)
{
    s_check_words("sleep 0.1", (const char *[]){"sleep", "0.1", NULL});
    s_check_words("  a   b\tc  ", (const char *[]){"a", "b", "c", NULL});
    s_check_words("", (const char *[]){NULL});
    s_check_words("   ", (const char *[]){NULL});
}

void
test_node_words_single_quotes_keep_everything(void)
{
    s_check_words("sh -c 'echo \"a  b\" | wc -c; exit 3'",
                  (const char *[]){"sh", "-c", "echo \"a  b\" | wc -c; exit 3", NULL});
    s_check_words("'$HOME' '*.py' 'back\\slash' '`x`'",
                  (const char *[]){"$HOME", "*.py", "back\\slash", "`x`", NULL});
}

void
test_node_words_double_quotes_take_four_escapes(void)
{
    /* \" \\ \$ \` lose the backslash; before anything else it stays. */
    s_check_words("printf \"%s\\n\" \"say \\\"hi\\\"\" \"\\\\ \\$HOME \\`x\\`\"",
                  (const char *[]){"printf", "%s\\n", "say \"hi\"", "\\ $HOME `x`", NULL});
    s_check_words("pytest -k \"not slow and not (db or net)\"",
                  (const char *[]){"pytest", "-k", "not slow and not (db or net)", NULL});
    s_check_words("echo \"it's | fine; * ? < > & #\"",
                  (const char *[]){"echo", "it's | fine; * ? < > & #", NULL});
}

void
test_node_words_backslash_quotes_one_character(void)
{
    s_check_words("touch a\\ b \\'q \\| \\$x \\\\",
                  (const char *[]){"touch", "a b", "'q", "|", "$x", "\\", NULL});
}

void
test_node_words_quotes_join_and_make_empty_words(void)
{
    s_check_words("'a'\"b\"c d'e f'", (const char *[]){"abc", "de f", NULL});
    s_check_words("cmd '' \"\" x", (const char *[]){"cmd", "", "", "x", NULL});
}

void
test_node_words_keeps_what_sh_keeps(void)
{
    /* Literal in sh too: a $ that starts no expansion, # and ~ inside a
     * word, NAME=value after the first word, brackets. */
    s_check_words(
        "grep -E a$ $ a#b a~b x=1 t[1] \"cost: 5$\"",
        (const char *[]){"grep", "-E", "a$", "$", "a#b", "a~b", "x=1", "t[1]", "cost: 5$", NULL});
}

void
test_node_words_refuses_unterminated_quotes(void)
{
    s_check_refused("echo 'abc", "unterminated single quote", "character 6");
    s_check_refused("echo \"abc\\\"", "unterminated double quote", "character 6");
    s_check_refused("echo abc\\", "backslash at character 9", "nothing to escape");
}

void
test_node_words_refuses_shell_syntax(void)
{
    const char *syntax = "shell syntax is not supported; quote it";
    s_check_refused("cat f | wc -l", "'|' at character 7", syntax);
    s_check_refused("make a; make b", "';' at character 7", syntax);
    s_check_refused("server &", "'&'", syntax);
    s_check_refused("sort <in", "'<'", syntax);
    s_check_refused("echo x >out", "'>'", syntax);
    s_check_refused("echo x 2>&1", "'>'", syntax);
    s_check_refused("echo $(date)", "'$(' at character 6", syntax);
    s_check_refused("echo `date`", "'`'", syntax);
    s_check_refused("rm *.tmp", "'*'", syntax);
    s_check_refused("ls file?", "'?'", syntax);
    s_check_refused("echo $HOME", "'$' at character 6", syntax);
    s_check_refused("echo ${HOME}", "'$'", syntax);
    s_check_refused("echo \"$HOME\"", "'$' at character 7", syntax);
    s_check_refused("echo \"$(date)\"", "'$('", syntax);
    s_check_refused("echo \"`date`\"", "'`'", syntax);
    s_check_refused("(cd x)", "'('", syntax);
    s_check_refused("run # a comment", "'#' at character 5", syntax);
    s_check_refused("ls ~/x", "'~'", syntax);
    s_check_refused("FOO=1 pytest", "'FOO=' at character 1",
                    "a variable assignment is not supported");
}
