module example.com/largeheap

go 1.27
