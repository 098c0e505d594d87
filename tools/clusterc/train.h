/* clusterc train (train.c): argv[0] is "train". */
#ifndef CLUSTERC_TRAIN_H
#define CLUSTERC_TRAIN_H
int trainMain(int argc, char **argv);
#endif
