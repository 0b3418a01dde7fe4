/* node/utf8.c and node/json.c: bytes from frameworks in reports that stay
 * valid JSON. The JSON is read back with json-c, a parser of its own. */
#include "harness.h"
#include "node/json.h"
#include "node/utf8.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

void test_node_utf8_decodes_valid_and_refuses_the_rest(void);
void
test_node_utf8_decodes_valid_and_refuses_the_rest(void)
{
    uint32_t cp;
    CHECK_INT(shoal_utf8_next((const unsigned char *)"A", &cp), ==, 1);
    CHECK_INT(cp, ==, 'A');
    CHECK_INT(shoal_utf8_next((const unsigned char *)"\xc3\xa9", &cp), ==, 2);
    CHECK_INT(cp, ==, 0xE9);
    CHECK_INT(shoal_utf8_next((const unsigned char *)"\xe2\x82\xac", &cp), ==, 3);
    CHECK_INT(cp, ==, 0x20AC);
    CHECK_INT(shoal_utf8_next((const unsigned char *)"\xf0\x9f\x90\x9f", &cp), ==, 4);
    CHECK_INT(cp, ==, 0x1F41F);
    static const char *const bad[] = {
        "\xff",             /* never in UTF-8 */
        "\x80",             /* a continuation byte alone */
        "\xc3",             /* truncated at the end */
        "\xe2\x82",         /* truncated */
        "\xc0\xaf",         /* overlong '/' */
        "\xed\xa0\x80",     /* a surrogate */
        "\xf4\x90\x80\x80", /* beyond U+10FFFF */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(shoal_utf8_next((const unsigned char *)bad[i], &cp), ==, 0);
}

void test_node_utf8_json_strings_stay_json(void);
void
test_node_utf8_json_strings_stay_json(void)
{
    const char *in = "id[\xff\xfe] caf\xc3\xa9 \"q\" \\ \x1b[0m \xed\xa0\x80 \xc3";
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    CHECK(out != NULL);
    shoal_json_string(out, in);
    fclose(out);
    json_object *parsed = json_tokener_parse(text);
    CHECK(parsed != NULL);
    CHECK(json_object_is_type(parsed, json_type_string));
    /* Valid text is kept; each byte that is not UTF-8 is #xNN. */
    CHECK_STR(json_object_get_string(parsed),
              "id[#xFF#xFE] caf\xc3\xa9 \"q\" \\ \x1b[0m #xED#xA0#x80 #xC3");
    json_object_put(parsed);
    free(text);
}
