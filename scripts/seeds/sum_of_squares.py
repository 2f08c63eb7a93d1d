"""Pure-Python CPU-bound loop: the sum of squares of range(N).

Source: seed 004, AD4305 unit V, "Evaluating the Effectiveness of Cython",
"Pure Python Implementation (Slow)".  N = 10**7 is 10**6 here so the script
stays well under a second; the Cython version needs a compiler and is left out.
"""


def sum_of_squares(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


if __name__ == "__main__":
    N = 10**6
    total = sum_of_squares(N)
    print(total)
    print("matches closed form:", total == (N - 1) * N * (2 * N - 1) // 6)
