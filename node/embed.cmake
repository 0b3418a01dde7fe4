# Turns a file into a C array, so the workers' plugins (pytest's, Mocha's)
# ship inside the binary: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* generated from ${IN} */\n#include <stddef.h>\n"
     "extern const char ${NAME}[];\nextern const size_t ${NAME}_len;\n"
     "const char ${NAME}[] = {${bytes}0x00};\n"
     "const size_t ${NAME}_len = sizeof(${NAME}) - 1;\n")
