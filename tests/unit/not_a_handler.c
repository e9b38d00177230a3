/* A shared object without handler_init(): the loader must refuse it. */
int lunar_test_not_a_handler;
