/* clusterc gradcheck (gradcheck.c): argv[0] is "gradcheck". */
#ifndef CLUSTERC_GRADCHECK_H
#define CLUSTERC_GRADCHECK_H
int gradcheckMain(int argc, char **argv);
#endif
