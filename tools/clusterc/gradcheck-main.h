/* clusterc gradcheck (gradcheck-main.c): argv[0] is "gradcheck". */
#ifndef CLUSTERC_GRADCHECK_MAIN_H
#define CLUSTERC_GRADCHECK_MAIN_H
int gradcheckMain(int argc, char **argv);
#endif
