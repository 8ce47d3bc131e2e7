#include "tests/unit/check.h"
int main(void) { return check_exit_status(); }
