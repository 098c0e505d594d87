/* clusterc train (train-main.c): argv[0] is "train". */
#ifndef CLUSTERC_TRAIN_MAIN_H
#define CLUSTERC_TRAIN_MAIN_H
int trainMain(int argc, char **argv);
#endif
