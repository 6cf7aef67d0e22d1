module example.com/gcmmu

go 1.27
