"""Task parallelism: two different functions submitted to a ThreadPoolExecutor.

Source: seed 004, AD4305 unit V, "Task Parallelism Example".
"""
from concurrent.futures import ThreadPoolExecutor


# Function to square a number
def square_number(number):
    return f"Square of {number}: {number * number}"


# Function to cube a number
def cube_number(number):
    return f"Cube of {number}: {number * number * number}"


# Input number
number = 4

# Using ThreadPoolExecutor for parallel task execution
with ThreadPoolExecutor() as executor:
    # Submitting two different tasks for parallel execution
    future_square = executor.submit(square_number, number)
    future_cube = executor.submit(cube_number, number)

    # Retrieving results
    result_square = future_square.result()
    result_cube = future_cube.result()

print(result_square)
print(result_cube)
