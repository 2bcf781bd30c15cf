// Placeholder until Scripts/gen_brotli_dictionary.py writes the real table.
#include "CBrotliDictionary.h"
const unsigned char danmu_brotli_dictionary[122784] = {0};
