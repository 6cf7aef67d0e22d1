module example.com/gleak

go 1.27
