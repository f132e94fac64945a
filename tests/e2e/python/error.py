print("before the error")
x = 1
print(undefined_name)
