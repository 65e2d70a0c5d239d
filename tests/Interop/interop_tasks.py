"""The task both workers run in Invoke-PythonInterop.ps1: it records which task ran, here."""
import os


def record(i):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'python-ran.log'), 'a') as f:
        f.write('%d\n' % i)
