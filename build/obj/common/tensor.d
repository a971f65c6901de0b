build/obj/common/tensor.o: common/tensor.c common/tensor.h
common/tensor.h:
