"""The Python refresher from chapter 1 of the Cookbook, as one script.

Source: seed 003, "Python Parallel Programming Cookbook, 2nd ed.", chapter 1,
"Introducing Python" (indentation, data types, strings, flow control,
functions, classes, exceptions, imports, files, list comprehensions).
Fixes: indentation; the if/elif example printed "Negative number" for zero;
the exception example lost its `try:` and the files example its `f.read()`;
interactive `>>>` lines became print() calls; the random number is checked
against its range instead of printed; the file goes to a temporary directory
instead of ./test.txt.
"""
import os
import random
import tempfile

# Indentation
condition = True
print("first print")
if condition:
    print("second print")
print("third print")

# Assignments
variable = 3
variable += 2
variable -= 1
print(variable)
_string_ = "Hello"
_string_ += " Parallel Programming CookBook Second Edition!"
print(_string_)

# Data types
list_1 = [1, ["item_1", "item_1"], ("a", "tuple")]
list_2 = ["item_1", -10000, 5.01]
print(list_1)
print(list_2)
print(list_1[2], list_1[1], list_2[0], list_2[-1])
dictionary = {"Key 1": "item A", "Key 2": "item B", 3: 1000}
print(dictionary)
print(dictionary["Key 1"], dictionary["Key 2"], dictionary[3])
list_3 = ["Hello", "Ruvika", "how", "are", "you?"]
print(list_3[0:6], list_3[0:1], list_3[2:6])

# Strings
example = "she loves ' giancarlo"
print(repr(example))
_string_ = '''I am a\x20
multi-line
string'''
print(repr(_string_))
ustring = u"I am unicode string"
print(repr(ustring))
print("My name is %s !" % ('Mr. Wolf'))

# Flow control
num = 1
if num > 0:
    print("Positive number")
elif num == 0:
    print("Zero")
else:
    print("Negative number")

numbers = [6, 6, 3, 8, -3, 2, 5, 44, 12]
sum = 0
for val in numbers:
    sum = sum + val
print("The sum is", sum)

n = 10
# initialize sum and counter
sum = 0
i = 1
while i <= n:
    sum = sum + i
    i = i + 1  # update counter

# print the sum
print("The sum is", sum)


# Functions
def my_function():
    print("this is a function")


my_function()


def my_function(x):
    print(x * 1234)


my_function(7)


def my_function(x, y):
    print(x * 5 + 2 * y)


my_function(7, 9)


def my_function(x, y=10):
    print(x * 5 + 2 * y)


my_function(1)
my_function(1, 100)


def my_function(cities):
    for x in cities:
        print(x)


lcities = ["Napoli", "Mumbai", "Amsterdam"]
my_function(lcities)


def my_function(x, y):
    return x * y


print(my_function(6, 29))

# lambda definition equivalent to def f(x): return x * 5
functionvar = lambda x: x * 5
print(functionvar(10))


# Classes
class FirstClass:
    common_value = 10

    def __init__(self):
        self.my_value = 100

    def my_func(self, arg1, arg2):
        return self.my_value * arg1 * arg2


first_instance = FirstClass()
print(first_instance.my_func(1, 2))
second_instance = FirstClass()
print(first_instance.common_value, second_instance.common_value)
first_instance.common_value = 1500
print(first_instance.common_value, second_instance.common_value)


class SecondClass(FirstClass):
    # The "self" argument is passed automatically
    # and refers to the class's instance
    def __init__(self, arg1):
        self.my_value = 764
        print(arg1)


first_instance = SecondClass("hello PACKT!!!!")
print(first_instance.my_func(1, 2))


# Exceptions
def one_function():
    try:
        # Division by zero causes one exception
        10 / 0
    except ZeroDivisionError:
        print("Oops, error.")
    else:
        # There was no exception, we can continue.
        pass
    finally:
        # This code is executed when the block
        # try..except is already executed and all exceptions
        # have been managed, even if a new one occurs
        # exception directly in the block.
        print("We finished.")


one_function()

# Importing libraries
randomint = random.randint(1, 101)
print("1 <= randomint <= 101:", 1 <= randomint <= 101)
from random import randint
randomint = randint(1, 102)
print("1 <= randomint <= 102:", 1 <= randomint <= 102)

# Managing files
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, 'test.txt')
    f = open(path, 'w')  # open the file for writing
    f.write('first line of file \n')  # write a line in file
    f.write('second line of file \n')  # write another line in file
    f.close()  # we close the file
    f = open(path)  # reopen the file for reading
    content = f.read()  # read all the contents of the file
    print(content, end="")
    f.close()  # close the file

# List comprehensions
list_comprehension_1 = [x for x in 'python parallel programming cookbook!']
print(list_comprehension_1)
l1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
list_comprehension_2 = [x * 10 for x in l1]
print(list_comprehension_2)
