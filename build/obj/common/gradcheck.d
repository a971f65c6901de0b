build/obj/common/gradcheck.o: common/gradcheck.c common/gradcheck.h \
 common/tensor.h
common/gradcheck.h:
common/tensor.h:
